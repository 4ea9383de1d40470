"""A Celery worker of PROMISE in a process of its own, as the tests and the benchmarks start it.

One place for it: the session's worker (tests/worker.py), the outage tests' worker with
beat (tests/broker.py), the two hosts of test_two_workers.py, the redelivered copy's
worker, the bomb tests' short-lived one and the benchmarks' ones
(benchmarks/live_platform.py) differ only in the arguments below.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


class WorkerProcess:
    """A worker started with `celery_worker_command(hostname, **options)`, its output in
    `log_path`, in a session of its own: its pool goes with it when it is stopped, and
    `kill` is a machine that vanished. `start` waits until it answers a ping."""

    def __init__(self, hostname: str, *, env: dict, log_path: Path, **options):
        self.prefix = hostname.split("@")[0] + "@"
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                celery_worker_command(hostname, **options),
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.pid = self.process.pid
        self.name = ""  # its full name once it answered (`start`)

    def start(self, timeout: float = 60) -> WorkerProcess:
        """Wait until the worker answers a ping, or fail the test with its log's end."""
        import pytest

        from tests.worker import wait_for

        def answering() -> str | None:
            if self.process.poll() is not None:
                pytest.fail(f"Worker {self.prefix} exited:\n{self.log_path.read_text()[-3000:]}")
            return next((name for name in _answering() if name.startswith(self.prefix)), None)

        self.name = wait_for(answering, timeout=timeout, what=f"worker {self.prefix} to start")
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and its pool at once: no goodbye, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), killed after 20 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _answering() -> list[str]:
    """The names of the workers that answer a ping. After a restart of the Redis, this
    process's reply socket may still be the old server's: it fails once, and the next
    ping reconnects."""
    import redis

    from promise.celery import app

    try:
        return [name for reply in app.control.ping(timeout=0.5) for name in reply]
    except redis.ConnectionError:
        return []
