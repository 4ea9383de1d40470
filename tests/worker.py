"""A real Celery worker on the real Redis, against the test database, for the whole session.

Shared by the integration and browser tests (registered in tests/conftest.py).
"""

import os
import time

import pytest
import redis
from django.conf import settings

from tests.worker_process import WorkerProcess


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PROMISE_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
    }
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    worker = WorkerProcess(f"test-{os.getpid()}@%h", env=env, log_path=log_path)
    try:
        yield worker.start()
    finally:
        worker.stop()


def wait_for(check, *, timeout: float, what: str, interval: float = 0.5):
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}")
