"""Scale-out: one run with one and with two Celery worker processes, and profiling a large
file here and on a two-worker dask.distributed cluster.

    .venv/bin/python benchmarks/scale.py [--rows 5000] [--budget 300] [--profile-rows 1000000]

Runs: the same table (benchmarks/run_speed.mixed_table, regression) and the same seeded
settings, once with one worker of one process, once with two workers of one process
each, under distinct hostnames (`bench-<pid>-<n>@host`). What is timed is the first
round, from the run's creation to the last of its five candidates: each search's
trials are fixed by the table's shape and the budget (budget.trial_count), so both runs
do the same work. The second round is not timed: it fills the time the first round left
up to 98% of the budget, so its length is the budget, not the workers' speed; the
benchmark ends it at once ("finish now") and waits for the ranking. `hosts_used` counts
the hostnames that trained the two-worker run's candidates (worker_hostname).

Profiling: `profile_table` on the Parquet copy of a `--profile-rows` CSV (written when
the CSV is profiled here first), in this process, then with DASK_SCHEDULER_ADDRESS
naming a `dask scheduler` with two `dask worker` processes of one thread each (started
here). On the cluster the copy's row groups (8 for a million rows) are profiled in 4
parts, two per worker thread, and merged by one more task (analysis/automl/
profile_parts.py); `profile_identical` says the merged profile equals the local one. The
CSV itself is profiled both ways too (`csv_profile_seconds_*`): a text file is one task
on the cluster, as its records and column types are only known by reading it from the
top. The cluster is warmed by one small profile first (a fresh worker's first task
imports pandas, pyarrow and PROMISE).

One JSON object goes to stdout.

What the figures mean, on this machine's 2 cores
------------------------------------------------
Three runs on an idle machine (defaults, --profile-rows 10,000,000 for the last two; the
third after promise/dask.yaml):

    run_seconds_1_worker   179.5  177.0  175.4
    run_seconds_2_workers  109.2  103.4  115.0
    run_speedup            1.64   1.71   1.53     hosts_used 2 in each
    profile_rows           1,000,000 (8 row groups)  10,000,000 (75)  10,000,000 (75)
    profile_seconds_local  1.53   8.95   9.96
    profile_seconds_cluster 2.41  13.12  10.20
    profile_speedup        0.64   0.68   0.98     profile_identical true in each
    csv_profile_seconds_local/cluster  2.4/4.4   18.4/37.8   20.7/21.5

Runs. Trial counts were the same on one and two workers (linear 20, tree 40, forest 7,
XGBoost 40) but for the LSTM (1 against 2 or 3: its search is ended by its clock, a
safety stop, so its trials follow how fast the machine was at the time). Two worker
processes on two cores can at best halve a CPU-bound first round, and a run is never
shorter than its slowest candidate; 1.5 to 1.7 is that, less what the two processes take
from each other (XGBoost and the forest use both cores alone).

Profiling. The local pass already keeps both cores busy (pyarrow decodes on a reading
thread while the profiler works), so two single-threaded Dask workers on the same two
cores can at best match it: the parts' merge and moving their results cost the rest
(0.98 with the Parquet copy cut in parts, and the profile identical to the local one).
A CSV is one task on the cluster: the same pass plus the round trip. Before
promise/dask.yaml, Dask's default MALLOC_TRIM_THRESHOLD_ in its workers turned off
glibc's adaptive mmap threshold, and every large buffer was mapped anew: the CSV's
profile took twice as long there (37.8 s against 18.4).

What they predict for 10 hosts
------------------------------
Runs. A run's parallelism is its candidates: five in the first round, so past five
worker processes one run gains nothing, and its first round tends to its slowest
candidate. Ten hosts help by training ten runs at once (throughput close to ten times
one host), not by making one run ten times shorter; the budget, not the hardware, sets
how long its searches are (trial counts come from the budget).

Profiling. Parts are two per worker thread but at most one per row group, and the copy
has one row group per 131,072 rows: 10,000,000 rows give 75 row groups, so ten hosts of
two single-threaded workers profile 40 parts of about a fortieth of the pass each at once.
Here two worker threads took 10.2 s for the whole copy, about 20 CPU-seconds; twenty
threads would take about 1 s plus the merge (serial, growing with the number of parts,
not rows) and each host's read of its row groups, so several times faster than one host
(9.96 s), as long as every host reads the file as fast as this one does. A CSV's first
profile stays one task: cutting it by byte ranges needs the record starts (quoted line
breaks) and one set of column types for all parts, which is not done yet; once its
Parquet copy exists, what reads the copy can be split.
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

import pyarrow.parquet as pq
from live_platform import ROOT, celery_worker, profiled_dataset, setup_django, wait
from run_speed import mixed_table


def timed_run(
    env: dict, var: Path, data: Path, workers: int, budget: int
) -> tuple[float, int, dict]:
    """Seconds from the run's creation to the end of its first round, how many hostnames
    trained it and each candidate's first-round trials; the second round is then cut
    short ("finish now")."""
    from django.contrib.auth import get_user_model

    from analysis import services
    from analysis.models import CandidateResult, Run

    ended = (CandidateResult.Status.SUCCEEDED, CandidateResult.Status.FAILED)
    with celery_worker(env, 1, var / f"worker-{workers}.log", workers=workers):
        owner = get_user_model().objects.create_user(f"bench-{workers}")
        dataset = profiled_dataset(owner, data, var)
        run = services.run_start(owner=owner, dataset=dataset, target="target", time_budget=budget)

        def first_round_end():
            candidates = list(run.candidates.all())
            if candidates and all(c.status in ended for c in candidates):
                return candidates
            return None

        first_round = wait(
            first_round_end,
            budget * 3,
            f"the first round on {workers} worker(s)",
        )
        services.run_finish(run=Run.objects.get(pk=run.pk))
        run = wait(
            lambda: (r := Run.objects.get(pk=run.pk)).finished_at and r,
            budget,
            f"the run on {workers} worker(s) to finish",
        )
    if run.status != Run.Status.SUCCEEDED:
        raise SystemExit(f"The run on {workers} worker(s) ended {run.status}: {run.error}")
    hosts = {c.worker_hostname for c in run.candidates.all() if c.worker_hostname}
    seconds = (max(c.finished_at for c in first_round) - run.created_at).total_seconds()
    return seconds, len(hosts), {c.name: c.trials_done for c in first_round}


def dask_cluster(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    dask = Path(sys.executable).parent / "dask"
    address_file = folder / "scheduler.json"
    from analysis.automl.cluster import WORKER_CONFIG

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_CONFIG": str(WORKER_CONFIG)}
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


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    answer = call()
    return time.monotonic() - started, answer


def timed_profiles(var: Path, rows: int) -> dict:
    """Seconds to profile the large file's Parquet copy here and on the cluster (in parts),
    and the CSV itself both ways (one task on the cluster)."""
    from analysis.automl import cluster as on_cluster
    from analysis.automl.ingest import normalized_path
    from analysis.automl.profile import profile_table

    data = var / "data" / f"profile_{rows}.csv"
    mixed_table(rows, "regression", seed=1).to_csv(data, index=False)
    csv_local, _ = timed(lambda: profile_table(data))  # writes the Parquet copy too
    copy = normalized_path(data)
    local, here = timed(lambda: profile_table(copy))
    address, processes = dask_cluster(var)
    try:
        os.environ["DASK_SCHEDULER_ADDRESS"] = address
        # Warm: the first task on a fresh worker imports pandas, pyarrow and PROMISE.
        small = data.with_name("warm.parquet")
        mixed_table(1000, "regression").to_parquet(small, row_group_size=100, index=False)
        profile_table(small)
        cluster, there = timed(lambda: profile_table(copy))
        # Last: profiling the CSV writes its copy again.
        csv_cluster, _ = timed(lambda: profile_table(data))
    finally:
        os.environ.pop("DASK_SCHEDULER_ADDRESS", None)
        # The profiles' client first, so that stopping the scheduler is not an error.
        on_cluster._client(address).close()
        on_cluster._client.cache_clear()
        for process in processes:
            process.terminate()
    return {
        "profile_rows": rows,
        "profile_row_groups": pq.ParquetFile(copy).metadata.num_row_groups,
        "profile_seconds_local": round(local, 2),
        "profile_seconds_cluster": round(cluster, 2),
        "profile_speedup": round(local / cluster, 3),
        "profile_identical": there.to_dict() == here.to_dict(),
        "csv_profile_seconds_local": round(csv_local, 2),
        "csv_profile_seconds_cluster": round(csv_cluster, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--profile-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.monotonic()

    var = Path(tempfile.mkdtemp(prefix="promise-scale-"))
    env = setup_django(var)
    data = var / "data" / "scale.csv"
    data.parent.mkdir()
    mixed_table(args.rows, "regression").to_csv(data, index=False)
    one, _, trials_one = timed_run(env, var, data, 1, args.budget)
    two, hosts, trials_two = timed_run(env, var, data, 2, args.budget)
    profiles = timed_profiles(var, args.profile_rows)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "budget": args.budget,
                "cpu_cores": os.cpu_count(),
                "load_average": round(os.getloadavg()[0], 2),
                "run_seconds_1_worker": round(one, 2),
                "run_seconds_2_workers": round(two, 2),
                "run_speedup": round(one / two, 3),
                "hosts_used": hosts,
                # Equal unless a search hit its clock (a safety stop, under load).
                "trials_1_worker": trials_one,
                "trials_2_workers": trials_two,
                **profiles,
                "total_seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
