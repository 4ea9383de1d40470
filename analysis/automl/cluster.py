"""Where the passes over a whole file run: in this process, or on a dask.distributed cluster.

With the environment variable `DASK_SCHEDULER_ADDRESS` set (such as tcp://10.0.0.5:8786),
the functions marked `@on_cluster` (profiling, sampling and the full-file confirmation)
are sent to that cluster, one task each, and the caller waits for the answer; the
cluster's workers read the same files, so they need the same MEDIA_ROOT (a shared
folder). Without the variable they run here, as before.

What crosses to the worker: the call's arguments and the read limits in force (`guarded`
in ingest/limits.py), under which the worker reads. What does not: callbacks into this
process (a `progress` argument is left out, so progress shows only when the task ends),
and the "is this read still wanted" check; the caller still discards an answer nobody
wants.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TypeVar

from .ingest.limits import current_guard, guarded

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
# Arguments that call back into the caller's process: not sent to a worker.
LOCAL_ONLY = ("progress",)

T = TypeVar("T")


def scheduler_address() -> str:
    return os.environ.get(ADDRESS_VARIABLE, "").strip()


@functools.cache
def _client(address: str):
    """One client per process and address, made on first use (after a worker's fork)."""
    from distributed import Client

    return Client(address, set_as_default=False, timeout="10s")


def _inside_a_dask_worker() -> bool:
    try:
        from distributed import get_worker
    except ImportError:
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True


def _under_limits(function: Callable[..., T], limits, /, *args, **kwargs) -> T:
    """On the worker: the call, under the caller's read limits."""
    with guarded(limits):
        return function(*args, **kwargs)


def on_cluster(function: Callable[..., T]) -> Callable[..., T]:
    """Run `function` on the cluster named by DASK_SCHEDULER_ADDRESS, if one is."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        address = scheduler_address()
        if not address or _inside_a_dask_worker():
            return function(*args, **kwargs)
        sent = {name: value for name, value in kwargs.items() if name not in LOCAL_ONLY}
        future = _client(address).submit(
            _under_limits,
            function,
            current_guard().limits,
            *args,
            key=f"{function.__name__}-{os.urandom(8).hex()}",
            **sent,
        )
        return future.result()

    return call
