"""What the benchmarks that drive the whole platform share (run_speed, finish_now, confirm).

Each gets a var folder of its own (SQLite database, uploads, models), Django set up on
it, and, when it needs the real queue, one Celery worker on a Redis database of its own
(13 unless REDIS_URL names another; flushed at the start).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")


def setup_django(var: Path) -> dict:
    """Point PROMISE at `var` and set Django up; returns the environment for child processes."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "promise.settings",
        "PROMISE_VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        "REDIS_URL": REDIS_URL,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


@contextmanager
def celery_worker(env: dict, concurrency: int, log: Path, *, workers: int = 1) -> Iterator[None]:
    """`workers` Celery workers (hostnames bench-<pid>-<n>@host), each with `concurrency`
    processes on the three queues, once every one answers pings."""
    import redis

    from promise.celery import app
    from tests.worker_process import celery_worker_command

    redis.Redis.from_url(REDIS_URL).flushdb()
    started = [
        subprocess.Popen(
            celery_worker_command(
                f"bench-{os.getpid()}-{n}@%h", concurrency=concurrency, loglevel="WARNING"
            ),
            cwd=ROOT,
            env=env,
            stdout=log.with_name(f"{log.stem}-{n}{log.suffix}").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(workers)
    ]
    try:
        wait(lambda: len(app.control.ping(timeout=0.5)) >= workers, 60, "the workers to start")
        yield
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(timeout=30)


def wait(check, timeout: float, what: str):
    """`check()`'s first truthy answer, asked every quarter second for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.25)
    raise SystemExit(f"Timed out after {timeout:.0f} s waiting for {what}.")


def profiled_dataset(owner, source: Path, var: Path):
    """A copy of `source` stored as `owner`'s dataset, once the worker has profiled it."""
    from analysis import services
    from analysis.models import Dataset

    copy = var / source.name
    shutil.copy(source, copy)
    dataset = services.dataset_create_from_path(owner=owner, path=copy, name=source.name)
    pending = (Dataset.Status.UPLOADED, Dataset.Status.PROFILING)
    dataset = wait(
        lambda: Dataset.objects.filter(pk=dataset.pk).exclude(status__in=pending).first(),
        600,
        "the profile",
    )
    if dataset.status != Dataset.Status.READY:
        raise SystemExit(f"Profiling failed: {dataset.error}")
    return dataset
