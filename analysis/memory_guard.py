"""A memory limit for one piece of work in a worker process.

Training a candidate on a big table can take more memory than the machine has; the
kernel's OOM killer would then kill the worker process at some random point, and with
it maybe the other candidate training beside it. Instead, `memory_limit` watches the
process's resident memory from a thread; past the limit it calls `on_exceeded` (which
records the failure where the user sees it) and kills its own process at once. The
Celery parent sees a lost worker, requeues the task, and the service finds the
candidate already failed, so the run goes on with the others.

A thread cannot interrupt numpy or XGBoost in the middle of a fit, which is why the
process ends instead of raising an exception.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil

CHECK_SECONDS = 0.25


@contextmanager
def memory_limit(max_bytes: int | None, on_exceeded: Callable[[int], None]) -> Iterator[None]:
    """Run the block under a resident-memory limit of `max_bytes` (None: no limit).

    `on_exceeded(rss_bytes)` runs once, on the watching thread, before the process is
    killed with SIGKILL.
    """
    if not max_bytes:
        yield
        return
    done = threading.Event()
    process = psutil.Process()

    def watch() -> None:
        while not done.wait(CHECK_SECONDS):
            rss = process.memory_info().rss
            if rss > max_bytes:
                try:
                    on_exceeded(rss)
                finally:
                    os.kill(os.getpid(), signal.SIGKILL)

    watcher = threading.Thread(target=watch, name="memory-limit", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def default_limit_bytes(workers: int) -> int:
    """A share of the machine's memory for each of `workers` processes: 80% split evenly."""
    return int(psutil.virtual_memory().total * 0.8 / max(workers, 1))
