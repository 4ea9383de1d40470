"""A Redis of the tests' own, to kill and start again, with a worker and beat on it.

The shared Redis of the test session is never restarted: these tests start a redis-server
on a free port, without persistence (the worst case: a restart loses every queue, chord
and unacknowledged message), a Celery worker with beat (the reconciler every few
seconds) on it, and point this process's Celery app at it while they run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import kombu.pools
import pytest
import redis
from kombu.utils.collections import eqhash

from promise.celery import app
from tests.worker_process import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
RECONCILE_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server that the test kills (SIGKILL, nothing saved) and starts again."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or str(ROOT / ".venv" / "bin" / "redis-server")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


class Worker:
    """A worker with beat embedded (-B), on `redis_url`, against the test database, that
    the test starts again as a new host (a new name) after it killed or stopped it."""

    def __init__(self, redis_url: str, database_name: str, log_path: Path):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PROMISE_TEST_DATABASE_NAME": database_name,
            "REDIS_URL": redis_url,
            "PROMISE_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
        }
        self.log_path = log_path
        self.current: WorkerProcess | None = None

    def start(self) -> None:
        self.current = WorkerProcess(
            f"outage-{os.getpid()}-{time.monotonic_ns()}@%h",
            env=self.env,
            log_path=self.log_path,
            beat_schedule=self.log_path.parent / "celerybeat-schedule",
        )
        try:
            self.current.start()
        except BaseException:
            self.current.stop()
            raise

    def kill(self) -> None:
        """SIGKILL, pool processes and all: a worker whose machine vanished."""
        self.current.kill()

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()


def _close_backend() -> None:
    """Stop and close the result backend this process's Celery app holds, then forget it.

    Celery keeps a backend that is not thread-safe (Redis's) per thread, in app._local:
    a fresh threading.local forgets every thread's, not only the calling one's."""
    backend = app._backend_cache or app._local.__dict__.get("backend")
    if (consumer := getattr(backend, "result_consumer", None)) is not None:
        # The results this process subscribed to there: forgotten, so that no result
        # collected later tries to unsubscribe from a Redis that may be gone by then.
        consumer.subscribed_to.clear()
        with contextlib.suppress(Exception):
            consumer.stop()
        consumer._pubsub = None
    if (client := getattr(backend, "client", None)) is not None:
        client.connection_pool.disconnect()
    app._backend_cache = None
    app._local = threading.local()


def _close_broker_pools(url: str) -> None:
    """Close kombu's connection and producer pools of the broker at `url` and drop them.

    kombu keeps one pool per broker address for the whole process (kombu.pools), outside
    the app: forgetting app._pool leaves the old address's connections open there, with
    their channels' finalizers, for as long as the process lives."""
    key = eqhash(app.connection_for_write(url))
    for group in (kombu.pools.producers, kombu.pools.connections):  # producers use connections
        if (pool := dict.pop(group, key, None)) is not None:
            with contextlib.suppress(Exception):
                pool.force_close_all()


def _forget_connections() -> None:
    """Forget every broker and result connection this process's Celery app holds."""
    _close_backend()
    # Only forgotten, not closed: the pool of the address the app goes to may be the
    # one it used before, and kombu keeps it per address (_close_broker_pools closes
    # the address it leaves).
    app._pool = None
    # A new AMQP helper: its producer pool, routes and queues are built again for the
    # new address (Celery itself drops only the producer pool, after a fork).
    app.__dict__.pop("amqp", None)


_ADDRESSES = ("broker_url", "result_backend")


@contextmanager
def celery_app_on(url: str):
    """This process's Celery app sends to `url` (and reads results there) inside the block;
    afterwards it is as before: the same configuration (set or read from Django's
    settings), no connection to `url` left open, fresh connections to its own broker."""
    # Read first: it loads the configuration, and until then `changes` is a pending
    # object whose updates the app never sees (a process's first block pointed nowhere).
    before = app.conf.broker_url
    changes = app.conf.changes
    saved = {key: changes[key] for key in _ADDRESSES if key in changes}
    changes.update(dict.fromkeys(_ADDRESSES, url))
    _forget_connections()
    try:
        yield
    finally:
        for key in _ADDRESSES:
            changes.pop(key, None)
        changes.update(saved)
        _forget_connections()
        if url != before:
            _close_broker_pools(url)
