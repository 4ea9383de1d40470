"""Ingest benchmark: our profile + 100K-row sample against pyarrow's read_csv on the same file.

    python benchmarks/ingest.py --rows 1000000

Generates a mixed-type CSV (numbers, integers, categories, datetimes, text, missing
values; about 105 bytes a row, so 0.5 GB at 5,000,000 rows and 2 GB at 20,000,000) under
var/bench/ if it is not there yet, then runs, each in a fresh process so their peak
memory is their own:

- ours: `profile_table` (one streaming pass that also writes the Parquet copy) and
  `sample_table` of 100,000 rows (random), from a cold start (no Parquet copy yet);
- reference: `pyarrow.csv.read_csv` of the whole file (all cores).

Prints one JSON object: file_mb, rows, seconds, mb_per_s, peak_rss_mb,
reference_mb_per_s, reference_peak_rss_mb and ratio (our MB/s ÷ the reference's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK_ROWS = 250_000


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write a mixed-type CSV of `rows` rows to `path`, chunk by chunk (flat memory)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    partial = path.with_suffix(".partial")
    cities = np.array(["Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Rome", "Oslo", "Riga"])
    plans = np.array(["basic", "plus", "pro", "enterprise"])
    words = np.array(["late", "paid", "refund", "new", "upgrade", "call", "email", "churn"])
    start = np.datetime64("2020-01-01T00:00:00")
    with pacsv.CSVWriter(partial, _schema(pa)) as writer:
        for offset in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - offset)
            amount = rng.lognormal(3, 1, n).round(2)
            amount_mask = rng.random(n) < 0.03
            table = pa.table(
                {
                    "id": np.arange(offset, offset + n),
                    "age": rng.integers(18, 90, n),
                    "income": pa.array(rng.normal(52_000, 15_000, n).round(2)),
                    "amount": pa.array(amount, mask=amount_mask),
                    "score": rng.random(n).round(6),
                    "visits": rng.poisson(4, n),
                    "city": cities[rng.integers(0, len(cities), n)],
                    "plan": pa.array(
                        plans[rng.integers(0, len(plans), n)], mask=rng.random(n) < 0.02
                    ),
                    "signed_up": (
                        start + rng.integers(0, 4 * 365 * 86400, n).astype("timedelta64[s]")
                    )
                    .astype(str)
                    .astype(object),
                    "note": [" ".join(w) for w in words[rng.integers(0, len(words), (n, 3))]],
                    "active": rng.random(n) < 0.7,
                    "label": np.where(rng.random(n) < 0.2, "yes", "no"),
                },
                schema=_schema(pa),
            )
            writer.write_table(table)
    partial.replace(path)


def _schema(pa):
    return pa.schema(
        [
            ("id", pa.int64()),
            ("age", pa.int64()),
            ("income", pa.float64()),
            ("amount", pa.float64()),
            ("score", pa.float64()),
            ("visits", pa.int64()),
            ("city", pa.string()),
            ("plan", pa.string()),
            ("signed_up", pa.string()),
            ("note", pa.string()),
            ("active", pa.bool_()),
            ("label", pa.string()),
        ]
    )


def run_ours(path: Path, sample_rows: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from analysis.automl.ingest import remove_normalized
    from analysis.automl.profile import profile_table
    from analysis.automl.sampling import sample_table

    remove_normalized(path)
    cpu = time.process_time()
    started = time.perf_counter()
    profile = profile_table(path)
    profiled = time.perf_counter()
    frame, _ = sample_table(path, target="label", max_rows=sample_rows, seed=0)
    done = time.perf_counter()
    remove_normalized(path)
    return {
        "rows": profile.rows,
        "sample_rows": len(frame),
        "seconds": done - started,
        "profile_seconds": profiled - started,
        "sample_seconds": done - profiled,
        "cpu_seconds": time.process_time() - cpu,
    }


def run_reference(path: Path) -> dict:
    import pyarrow.csv as pacsv

    cpu = time.process_time()
    started = time.perf_counter()
    table = pacsv.read_csv(path)
    return {
        "rows": table.num_rows,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
    }


def _measure(mode: str, path: Path, sample_rows: int) -> tuple[dict, float]:
    """Run one side in a fresh process; return its report and its peak RSS in MB."""
    command = [sys.executable, __file__, "--child", mode, "--path", str(path)]
    command += ["--sample-rows", str(sample_rows)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"{mode} run failed with status {status}")
    return json.loads(output), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, help="CSV to use (generated when absent)")
    parser.add_argument("--sample-rows", type=int, default=100_000)
    parser.add_argument("--child", choices=["ours", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.path or ROOT / "var" / "bench" / f"ingest_{args.rows}.csv"
    if args.child == "ours":
        print(json.dumps(run_ours(path, args.sample_rows)))
        return
    if args.child == "reference":
        print(json.dumps(run_reference(path)))
        return
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate(path, args.rows)
    file_mb = path.stat().st_size / 1e6
    reference, reference_rss = _measure("reference", path, args.sample_rows)
    ours, ours_rss = _measure("ours", path, args.sample_rows)
    mb_per_s = file_mb / ours["seconds"]
    reference_mb_per_s = file_mb / reference["seconds"]
    report = {
        "file_mb": round(file_mb, 1),
        "rows": ours["rows"],
        "sample_rows": ours["sample_rows"],
        "seconds": round(ours["seconds"], 2),
        "profile_seconds": round(ours["profile_seconds"], 2),
        "sample_seconds": round(ours["sample_seconds"], 2),
        "mb_per_s": round(mb_per_s, 1),
        "peak_rss_mb": round(ours_rss, 1),
        "cpu_seconds": round(ours["cpu_seconds"], 2),
        "reference_seconds": round(reference["seconds"], 2),
        "reference_cpu_seconds": round(reference["cpu_seconds"], 2),
        "reference_mb_per_s": round(reference_mb_per_s, 1),
        "reference_peak_rss_mb": round(reference_rss, 1),
        "ratio": round(mb_per_s / reference_mb_per_s, 3),
        # The same ratio in CPU time: steadier than wall time on a shared machine.
        "cpu_ratio": round(reference["cpu_seconds"] / ours["cpu_seconds"], 3),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
