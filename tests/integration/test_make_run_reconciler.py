"""`make run` runs Celery beat, whose reconciler passes, and its embedded Redis keeps an
append-only file, so the queues survive a restart of it."""

import json
import time

import pytest
import redis

from analysis.reconcile import LAST_PASS
from tests.integration.test_make_run import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    MakeRun,
    free_port,
    redis_pings,
)

RECONCILE_SECONDS = 5  # instead of 30: the first pass comes sooner


def test_make_run_reconciles_on_beat_and_its_redis_keeps_an_append_only_file(tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    assert not redis_pings(redis_url)
    run = MakeRun(
        tmp_path / "var",
        free_port(),
        redis_url,
        database_url=None,
        PROMISE_RECONCILE_SECONDS=str(RECONCILE_SECONDS),
    )
    processes = {}
    try:
        # Beat sends the first pass one interval after it starts.
        deadline = time.monotonic() + START_TIMEOUT + 2 * RECONCILE_SECONDS
        client = redis.Redis.from_url(redis_url, socket_timeout=2)

        def last_pass():
            try:
                return client.get(LAST_PASS)
            except redis.ConnectionError:
                return None

        found = json.loads(run.wait_for(last_pass, "a reconciler pass", deadline))
        processes = run.processes()
        assert any(" beat" in command for command in processes.values()), processes
        assert found["orphans"] == [] and "skipped" not in found, found
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert (tmp_path / "var" / "redis" / "appendonly.aof").exists()

        run.interrupt()
        run.process.wait(timeout=STOP_TIMEOUT)
    finally:
        if run.process.poll() is None:
            processes = {**run.processes(), **processes}
            run.process.kill()
        run.kill_leftovers(processes)
    if not redis_pings(redis_url):
        return
    pytest.fail("the embedded Redis still answers after make run stopped")
