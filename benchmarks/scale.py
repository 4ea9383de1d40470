"""Scale-out: one run with one and with two Celery worker processes, and profiling a large
file here and on a two-worker dask.distributed cluster.

    .venv/bin/python benchmarks/scale.py [--rows 5000] [--budget 600] [--profile-rows 1000000]

Runs: the same table (benchmarks/run_speed.mixed_table, regression) and the same seeded
settings, once with one worker of one process, once with two workers of one process
each, under distinct hostnames (`bench-<pid>-<n>@host`). The budget is generous, so that
every search stops by its own trial limit or convergence rather than by the clock: the
work is the same and the wall time shows the parallelism. `hosts_used` counts the
hostnames that trained the two-worker run's candidates (CandidateResult.worker_hostname).

Profiling: `profile_table` on a `--profile-rows` file, in this process, then with
DASK_SCHEDULER_ADDRESS naming a `dask scheduler` with two `dask worker` processes of one
thread each (started here). Profiling is one streaming pass, sent to the cluster as one
task, so the cluster's worth is where the pass runs (next to the data, off the web and
Celery hosts), not a speedup of one file. The cluster is warmed by one small profile
first (a fresh worker's first task imports pandas, pyarrow and PROMISE).

One JSON object goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_platform import ROOT, celery_worker, profiled_dataset, setup_django, wait
from run_speed import mixed_table


def timed_run(env: dict, var: Path, data: Path, workers: int, budget: int) -> tuple[float, int]:
    """Seconds from the run's creation to its end, and how many hostnames trained it."""
    from django.contrib.auth import get_user_model

    from analysis import services
    from analysis.models import Run

    with celery_worker(env, 1, var / f"worker-{workers}.log", workers=workers):
        owner = get_user_model().objects.create_user(f"bench-{workers}")
        dataset = profiled_dataset(owner, data, var)
        run = services.run_start(owner=owner, dataset=dataset, target="target", time_budget=budget)
        run = wait(
            lambda: (r := Run.objects.get(pk=run.pk)).finished_at and r,
            budget * 3,
            f"the run on {workers} worker(s) to finish",
        )
    if run.status != Run.Status.SUCCEEDED:
        raise SystemExit(f"The run on {workers} worker(s) ended {run.status}: {run.error}")
    hosts = {c.worker_hostname for c in run.candidates.all() if c.worker_hostname}
    return (run.finished_at - run.created_at).total_seconds(), len(hosts)


def dask_cluster(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    dask = Path(sys.executable).parent / "dask"
    address_file = folder / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    processes = [
        subprocess.Popen(
            [str(dask), "scheduler", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(address_file)], **quiet,
        )
    ]  # fmt: skip
    wait(address_file.exists, 60, "the Dask scheduler")
    for n in range(2):
        processes.append(
            subprocess.Popen(
                [str(dask), "worker", "--scheduler-file", str(address_file), "--nthreads", "1",
                 "--no-dashboard", "--name", f"bench-{n}"], **quiet,
            )
        )  # fmt: skip
    address = json.loads(address_file.read_text())["address"]
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    return address, processes


def timed_profiles(var: Path, rows: int) -> tuple[float, float]:
    from analysis.automl.profile import profile_table

    data = var / "data" / f"profile_{rows}.csv"
    mixed_table(rows, "regression", seed=1).to_csv(data, index=False)
    started = time.monotonic()
    profile_table(data)
    local = time.monotonic() - started
    address, processes = dask_cluster(var)
    try:
        os.environ["DASK_SCHEDULER_ADDRESS"] = address
        # Warm: the first task on a fresh worker imports pandas, pyarrow and PROMISE.
        small = data.with_name("warm.csv")
        mixed_table(100, "regression").to_csv(small, index=False)
        profile_table(small)
        started = time.monotonic()
        profile_table(data)
        cluster = time.monotonic() - started
    finally:
        os.environ.pop("DASK_SCHEDULER_ADDRESS", None)
        for process in processes:
            process.terminate()
    return local, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--budget", type=int, default=600)
    parser.add_argument("--profile-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="promise-scale-"))
    env = setup_django(var)
    data = var / "data" / "scale.csv"
    data.parent.mkdir()
    mixed_table(args.rows, "regression").to_csv(data, index=False)
    one, _ = timed_run(env, var, data, 1, args.budget)
    two, hosts = timed_run(env, var, data, 2, args.budget)
    local, cluster = timed_profiles(var, args.profile_rows)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "budget": args.budget,
                "cpu_cores": os.cpu_count(),
                "run_seconds_1_worker": round(one, 2),
                "run_seconds_2_workers": round(two, 2),
                "run_speedup": round(one / two, 3),
                "hosts_used": hosts,
                "profile_rows": args.profile_rows,
                "profile_seconds_local": round(local, 2),
                "profile_seconds_cluster": round(cluster, 2),
                "profile_speedup": round(local / cluster, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
