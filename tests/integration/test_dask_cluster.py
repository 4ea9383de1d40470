"""Profiling, sampling and the full-file confirmation on a real dask.distributed cluster.

A scheduler and two workers run as processes (`dask scheduler`, `dask worker`); with
DASK_SCHEDULER_ADDRESS naming the scheduler, each pass runs there (a Parquet file's profile
in parts, one task per run of row groups), and gives what the same call gives in this
process, for the same seed.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.automl import cluster
from analysis.automl.confirm import confirm_candidates
from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.automl.sampling import STRATIFIED, TIME_BASED, sample_table
from tests.conftest import churn_frame

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_CONFIG": str(cluster.WORKER_CONFIG)}
    env.pop(cluster.ADDRESS_VARIABLE, None)
    return subprocess.Popen(
        [str(DASK), *args],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a scheduler with two single-threaded workers, all processes."""
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [
        _start(
            ["scheduler", "--port", "0", "--scheduler-file", str(address_file), *common],
            folder / "scheduler.log",
        )
    ]
    deadline = time.monotonic() + 60
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    for name in ("one", "two"):
        processes.append(
            _start(
                ["worker", "--scheduler-file", str(address_file), "--nthreads", "1",
                 "--name", name, "--memory-limit", "2GB", *common],
                folder / f"worker-{name}.log",
            )
        )  # fmt: skip
    address = json.loads(address_file.read_text())["address"]
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
        yield address, client
    cluster._client.cache_clear()
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def _ran_on_the_cluster(client) -> dict[str, int]:
    """How many tasks of each kind the scheduler has seen finish."""

    def finished(dask_scheduler) -> dict[str, int]:
        # state_counts counts transitions: a task that finished went to memory once.
        return {
            prefix: tp.state_counts.get("memory", 0)
            for prefix, tp in dask_scheduler.task_prefixes.items()
        }

    return client.run_on_scheduler(finished)


def test_workers_keep_glibcs_adaptive_memory_thresholds(scheduler):
    """Dask's default MALLOC_TRIM_THRESHOLD_ doubled the time a profile took on a worker;
    promise/dask.yaml unsets it."""
    _, client = scheduler
    found = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset"))
    assert set(found.values()) == {"unset"}


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "churn.csv"
    churn_frame(rows=3000, seed=5).to_csv(path, index=False)
    return path


def _both(monkeypatch, address: str, call):
    """`call()` here, then on the cluster."""
    monkeypatch.delenv(cluster.ADDRESS_VARIABLE, raising=False)
    here = call()
    monkeypatch.setenv(cluster.ADDRESS_VARIABLE, address)
    there = call()
    monkeypatch.delenv(cluster.ADDRESS_VARIABLE)
    return here, there


def test_the_profile_and_the_samples_match_the_local_ones(scheduler, table, monkeypatch):
    address, client = scheduler

    here, there = _both(monkeypatch, address, lambda: profile_table(table))
    assert there.to_dict() == here.to_dict()

    for strategy, extra in ((STRATIFIED, {}), (TIME_BASED, {"time_column": "signup_date"})):
        (frame, result), (frame_there, result_there) = _both(
            monkeypatch,
            address,
            lambda s=strategy, e=extra: sample_table(
                table, target="churned", max_rows=500, seed=11, strategy=s, **e
            ),
        )
        pd.testing.assert_frame_equal(frame_there, frame)
        assert result_there == result and len(frame) == 500

    finished = _ran_on_the_cluster(client)
    assert finished.get("profile_table", 0) >= 1 and finished.get("sample_table", 0) >= 2


def test_a_parquet_file_is_profiled_in_parts_that_merge_into_the_local_profile(
    scheduler, tmp_path, monkeypatch
):
    address, client = scheduler
    path = tmp_path / "churn.parquet"
    # More rows than the profile's sample (20,000) and than its exact distinct counts
    # (4,096), so the merge cuts the samples and the sketches; missing values and a date.
    frame = churn_frame(rows=45_000, seed=3)
    frame["signup_date"] = pd.to_datetime(frame["signup_date"])
    frame.to_parquet(path, row_group_size=7_000, index=False)
    before = _ran_on_the_cluster(client)

    here, there = _both(monkeypatch, address, lambda: profile_table(path))

    assert there.to_dict() == here.to_dict()
    assert here.rows == 45_000 and here.columns[0].distinct_is_estimate
    finished = _ran_on_the_cluster(client)
    parts = finished.get("profile_part", 0) - before.get("profile_part", 0)
    merged = finished.get("profile_merge", 0) - before.get("profile_merge", 0)
    whole = finished.get("profile_table", 0) - before.get("profile_table", 0)
    assert (parts, merged, whole) == (4, 1, 0)  # two threads, two parts each


def test_the_full_file_confirmation_matches_the_local_one(scheduler, table, tmp_path, monkeypatch):
    address, client = scheduler
    run = tmp_path / "run"
    plan = prepare_run(
        table, run, profile=profile_table(table), target="churned", max_rows=800, seed=2
    )
    train_candidate(run, plan, "linear", time_limit=5)

    here, there = _both(
        monkeypatch, address, lambda: confirm_candidates(table, run, ["linear"], progress=print)
    )

    assert there["linear"] == here["linear"]
    assert _ran_on_the_cluster(client).get("confirm_candidates", 0) >= 1


def test_a_file_the_cluster_cannot_read_fails_with_the_same_sentence(
    scheduler, tmp_path, monkeypatch
):
    address, _ = scheduler
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n")

    here, there = [], []
    for errors, env in ((here, None), (there, address)):
        if env:
            monkeypatch.setenv(cluster.ADDRESS_VARIABLE, env)
        with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
            profile_table(broken)
        errors.append((type(caught.value).__name__, str(caught.value)))

    assert there == here and "no data rows" in here[0][1]
