"""Where the passes over a whole file run: in this process, or on a dask.distributed cluster.

With the environment variable `DASK_SCHEDULER_ADDRESS` set (such as tcp://10.0.0.5:8786),
the functions marked `@on_cluster` (profiling, sampling and the full-file confirmation)
are sent to that cluster, one task each, and the caller waits for the answer. A function
that can be split says how (`in_parts`): profiling a Parquet file runs as one task per
run of row groups, merged by one more task (profile_parts.py). The cluster's workers
read the same files, so they need the same MEDIA_ROOT (a shared folder). Without the
variable they run here, as before.

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
from pathlib import Path
from typing import TypeVar

from .ingest.limits import current_guard, guarded

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
# The Dask workers' configuration (`DASK_CONFIG=promise/dask.yaml dask worker …`).
WORKER_CONFIG = Path(__file__).resolve().parents[2] / "promise" / "dask.yaml"
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


class Cluster:
    """The cluster a call goes to: tasks sent through it run under the caller's read limits."""

    def __init__(self, client, limits):
        self.client, self.limits = client, limits

    def submit(self, function: Callable[..., T], /, *args, **kwargs):
        """A future of `function(*args, **kwargs)` run on a worker (futures in `args` are
        replaced by their results there)."""
        return self.client.submit(
            _under_limits,
            function,
            self.limits,
            *args,
            key=f"{function.__name__}-{os.urandom(8).hex()}",
            **kwargs,
        )

    def threads(self) -> int:
        """How many tasks the cluster's workers run at once."""
        return sum(self.client.nthreads().values())


def on_cluster(function: Callable[..., T] | None = None, /, *, in_parts=None):
    """Run `function` on the cluster named by DASK_SCHEDULER_ADDRESS, if one is.

    `in_parts(cluster, *args, **kwargs)`, when given, may instead split the call into
    tasks that the workers run in parallel and return the answer; it returns None for a
    call it cannot split, which then goes to one worker whole.
    """
    if function is None:
        return functools.partial(on_cluster, in_parts=in_parts)

    @functools.wraps(function)
    def call(*args, **kwargs):
        address = scheduler_address()
        if not address or _inside_a_dask_worker():
            return function(*args, **kwargs)
        sent = {name: value for name, value in kwargs.items() if name not in LOCAL_ONLY}
        cluster = Cluster(_client(address), current_guard().limits)
        if in_parts is not None:
            answer = in_parts(cluster, *args, **sent)
            if answer is not None:
                return answer
        return cluster.submit(function, *args, **sent).result()

    return call
