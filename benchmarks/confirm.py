"""Confirmation benchmark: scoring two models on the whole file against the exported evaluate.py.

    .venv/bin/python benchmarks/confirm.py [--rows 20000000] [--sample 100000] [--budget 60]

It writes an N-row Parquet file if absent (var/bench/confirm_<rows>.parquet: 10 numbers,
two with gaps, a count, a 4-value and a 60-value category, a yes/no column and a yes/no
target; 1,000,000 rows at a time, in row groups of 131,072 rows as PROMISE's own Parquet
copies). Then, in a var folder of its own (SQLite; no worker and no broker: the queueing
calls are replaced by no-ops, and this script calls what the tasks would):

1. discovery, in this process, through the services the worker's tasks call: the file
   stored as a user's dataset and profiled (`dataset_profile`), a run on a random sample
   of `--sample` rows with a `--budget` of seconds (`run_prepare`, `candidate_train` for
   each family one after the other, `run_rank`). Ranking marks the recommended model and
   the runner-up queued for confirmation.
2. confirmation: `services.run_confirm`, what the `confirm_candidates` task calls, for
   those two models, in a fresh process, timed from start to exit; its peak RSS is that
   process's own (VmHWM, read by itself at the end).
3. reference: the exported evaluate.py of each of the two models, `python -I evaluate.py
   --data FILE` with its default chunk size, each in a fresh process, on the same file.

Both do the same work: score the two models on the rows of the file (the confirmation
reads the file once for both and leaves out the training rows; evaluate.py reads it once
per model and scores every row). So `rows_per_second` is rows ÷ the confirmation's
seconds and `evaluate_rows_per_second` is rows ÷ the two evaluate.py runs' seconds; the
goals are `ratio` (the first ÷ the second) ≥ 0.5 and `peak_rss_mb` ≤ 1024. `cpu_ratio`
is the same ratio in CPU seconds, steadier when other work shares the machine.

One JSON object goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from live_platform import ROOT, setup_django

CHUNK_ROWS = 1_000_000
ROW_GROUP_ROWS = 131_072


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """Write the benchmark's Parquet file of `rows` rows, chunk by chunk (flat memory)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    regions = np.array(["north", "south", "east", "west"])
    shops = np.array([f"shop-{n:02d}" for n in range(60)])
    partial = path.with_suffix(".partial")
    writer = None
    for offset in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - offset)
        numbers = rng.normal(size=(n, 10))
        region = rng.integers(0, len(regions), n)
        shop = rng.integers(0, len(shops), n)
        signal = (
            numbers[:, 0] * 1.5
            + np.sin(numbers[:, 1] * 2)
            + numbers[:, 2] * numbers[:, 3]
            + (region == 3) * 0.7
            + np.sin(shop / 6.0)
            + rng.normal(0, 0.8, n)
        )
        columns = {f"x{i}": pa.array(numbers[:, i]) for i in range(8)}
        columns["x8"] = pa.array(numbers[:, 8], mask=rng.random(n) < 0.1)
        columns["x9"] = pa.array(numbers[:, 9], mask=rng.random(n) < 0.3)
        columns["visits"] = pa.array(rng.poisson(3, n))
        columns["region"] = pa.array(regions[region])
        columns["shop"] = pa.array(shops[shop])
        columns["member"] = pa.array(np.where(rng.random(n) < 0.4, "yes", "no"))
        columns["target"] = pa.array(np.where(signal > 0.3, "renewed", "left"))
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(partial, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    writer.close()
    partial.replace(path)


def run_discovery(data: Path, sample: int, budget: int) -> dict:
    """Store, profile, sample, train and rank in this process; returns the run's facts."""
    from django.contrib.auth import get_user_model

    from analysis import services, workflow
    from analysis.automl.candidates import CANDIDATES
    from analysis.models import Dataset, Run

    # No broker: this script calls what the queued tasks would call, in order.
    for name in ("send_profile", "send_run", "send_confirmation"):
        assert hasattr(workflow, name), name
        setattr(workflow, name, lambda *args, **kwargs: None)
    owner = get_user_model().objects.create_user("bench")
    started = time.monotonic()
    dataset = services.dataset_create_from_path(owner=owner, path=data, name=data.name)
    services.dataset_profile(dataset_id=dataset.pk)
    dataset = Dataset.objects.get(pk=dataset.pk)
    if dataset.status != Dataset.Status.READY:
        raise SystemExit(f"Profiling failed: {dataset.error}")
    run = services.run_start(
        owner=owner, dataset=dataset, target="target", sample_size=sample, time_budget=budget
    )
    services.run_prepare(run_id=run.pk)
    for candidate in CANDIDATES:
        services.candidate_train(run_id=run.pk, name=candidate.name)
    services.run_rank(run_id=run.pk)
    run = Run.objects.get(pk=run.pk)
    if run.status != Run.Status.SUCCEEDED:
        raise SystemExit(f"The run failed: {run.error}")
    queued = list(run.candidates.filter(confirm_status="queued").order_by("rank"))
    return {
        "run_id": run.pk,
        "candidate_ids": [c.pk for c in queued],
        "candidates": [c.name for c in queued],
        "metric": run.metric,
        "sample_rows": run.sample_rows,
        "train_rows": run.plan["train_rows"],
        "holdout": {c.name: c.metrics.get(run.metric) for c in queued},
        "discovery_seconds": round(time.monotonic() - started, 1),
    }


def export_folders(candidate_ids: list[int], into: Path) -> list[Path]:
    """Each candidate's code export, unzipped into a folder of its own."""
    from analysis import services
    from analysis.models import CandidateResult

    folders = []
    for pk in candidate_ids:
        export = services.export_build(candidate=CandidateResult.objects.get(pk=pk))
        folder = into / f"export-{pk}"
        with zipfile.ZipFile(export.file.path) as archive:
            archive.extractall(folder)
        folders.append(folder)
    return folders


def measured(command: list[str], *, cwd: Path, env: dict | None = None) -> dict:
    """Run `command` in a fresh process: its wall and CPU seconds, peak RSS (MB), last line.

    The peak is the process's VmHWM, read every 50 ms until it ends (the last reading is
    kept). Not wait4's ru_maxrss: Linux carries the forking process's peak over into the
    child's, and this process holds the whole discovery. CPU time (user + system, every
    thread) is steadier than wall time on a shared machine.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    with tempfile.TemporaryFile("w+") as output:
        reader = threading.Thread(target=lambda: shutil.copyfileobj(process.stdout, output))
        reader.start()
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mb(process.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        reader.join()
        output.seek(0)
        last = output.read().strip().splitlines()[-1]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command[:3]} failed with status {process.returncode}")
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": peak,
        "result": json.loads(last),
    }


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident memory so far (VmHWM), in MB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def confirm_in_this_process(run_id: int, candidate_ids: list[int]) -> None:
    """The child: the service the confirm_candidates task calls, then what it stored."""
    from analysis import services
    from analysis.models import CandidateResult

    started = time.perf_counter()
    services.run_confirm(run_id=run_id, candidate_ids=candidate_ids)
    seconds = time.perf_counter() - started
    stored = CandidateResult.objects.filter(pk__in=candidate_ids).order_by("rank")
    print(
        json.dumps(
            {
                "service_seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
                "candidates": {
                    c.name: {
                        "status": c.confirm_status,
                        "error": c.confirm_error or None,
                        "rows": c.full_rows,
                        "metrics": c.full_metrics,
                    }
                    for c in stored
                },
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # var folder, run id, candidate ids
        setup_django(Path(args.child[0]))
        confirm_in_this_process(int(args.child[1]), [int(pk) for pk in args.child[2:]])
        return

    data = ROOT / "var" / "bench" / f"confirm_{args.rows}.parquet"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        write_table(data, args.rows)
    var = Path(tempfile.mkdtemp(prefix="promise-confirm-bench-"))
    try:
        env = setup_django(var)
        run = run_discovery(data, args.sample, args.budget)
        if len(run["candidate_ids"]) < 2:
            raise SystemExit(f"Expected two models queued for confirmation: {run}")
        child = [sys.executable, __file__, "--child", str(var), str(run["run_id"])]
        ours = measured(child + [str(pk) for pk in run["candidate_ids"]], cwd=ROOT, env=env)
        evaluations = [
            measured([sys.executable, "-I", "evaluate.py", "--data", str(data)], cwd=folder)
            for folder in export_folders(run["candidate_ids"], var)
        ]
    finally:
        shutil.rmtree(var, ignore_errors=True)

    rows = args.rows
    evaluate_seconds = sum(e["seconds"] for e in evaluations)
    rows_per_second = rows / ours["seconds"]
    evaluate_rows_per_second = rows / evaluate_seconds
    confirmed = ours["result"]["candidates"]
    report = {
        "rows": rows,
        "file_mb": round(data.stat().st_size / 1e6, 1),
        "sample_rows": run["sample_rows"],
        "candidates": run["candidates"],
        "scored_rows": {name: c["rows"] for name, c in confirmed.items()},
        "seconds": round(ours["seconds"], 2),
        "service_seconds": round(ours["result"]["service_seconds"], 2),
        "rows_per_second": round(rows_per_second),
        "evaluate_seconds": [round(e["seconds"], 2) for e in evaluations],
        "evaluate_rows_per_second": round(evaluate_rows_per_second),
        "ratio": round(rows_per_second / evaluate_rows_per_second, 3),
        "cpu_seconds": round(ours["cpu_seconds"], 2),
        "evaluate_cpu_seconds": [round(e["cpu_seconds"], 2) for e in evaluations],
        # The same ratio in CPU time.
        "cpu_ratio": round(sum(e["cpu_seconds"] for e in evaluations) / ours["cpu_seconds"], 3),
        # The confirmation's own reading at its end (exact), not the 50 ms polling.
        "peak_rss_mb": round(ours["result"]["peak_rss_mb"], 1),
        "evaluate_peak_rss_mb": [round(e["peak_rss_mb"], 1) for e in evaluations],
        "metric": run["metric"],
        # The three views of each model's score: the sample's holdout, the rows it did not
        # train on (ours), and every row of the file, training rows included (evaluate.py).
        "scores": {
            name: {
                "holdout": run["holdout"][name],
                "full_file": (c["metrics"] or {}).get(run["metric"]),
                "evaluate_all_rows": e["result"]["score"],
            }
            for (name, c), e in zip(confirmed.items(), evaluations, strict=True)
        },
        "confirm_errors": {n: c["error"] for n, c in confirmed.items() if c["error"]},
        "discovery_seconds": run["discovery_seconds"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "goal_met": rows_per_second >= 0.5 * evaluate_rows_per_second
        and ours["result"]["peak_rss_mb"] <= 1024,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
