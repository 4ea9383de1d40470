"""The command line of a Celery worker of PROMISE, as the tests and the benchmarks start it.

One place for it: the session's worker (tests/worker.py), the outage tests' worker with
beat (tests/broker.py), the bomb tests' short-lived one and the benchmarks' one
(benchmarks/live_platform.py) differ only in the arguments below.
"""

from __future__ import annotations

import sys
from pathlib import Path


def celery_worker_command(
    hostname: str,
    *,
    queues: list[str] | None = None,
    concurrency: int = 2,
    loglevel: str = "INFO",
    beat_schedule: Path | None = None,
) -> list[str]:
    """`python -m celery -A promise worker` on `queues` (default: every queue of the
    settings), without gossip and mingle (they only slow a start down); with beat embedded
    when `beat_schedule` names its file. `hostname` takes Celery's %h (the machine's name)."""
    if queues is None:
        from django.conf import settings

        queues = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    beat = ["-B", "--schedule", str(beat_schedule)] if beat_schedule else []
    return [
        sys.executable, "-m", "celery", "-A", "promise", "worker", *beat,
        "-Q", ",".join(queues), "--concurrency", str(concurrency), "--loglevel", loglevel,
        "--hostname", hostname, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
