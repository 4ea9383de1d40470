"""tests/broker.py's celery_app_on: inside the block this process's Celery app uses another
Redis; afterwards it is as it was, with nothing left on the Redis it left (a later test in
the same process must not depend on which test ran before it)."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

from analysis.tasks import reconcile
from promise.celery import app
from tests.broker import PrivateRedis, celery_app_on

QUEUE = "celery-app-on-probe"  # no worker consumes it
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def probe_queue():
    session = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    session.delete(QUEUE)
    yield session
    session.delete(QUEUE)


def test_it_sends_to_the_private_redis_inside_and_to_its_own_broker_after(private, probe_queue):
    with celery_app_on(private.url):
        reconcile.apply_async(queue=QUEUE)
    reconcile.apply_async(queue=QUEUE)

    assert redis.Redis.from_url(private.url).llen(QUEUE) == 1
    assert probe_queue.llen(QUEUE) == 1


def test_it_leaves_no_connection_open_to_the_redis_it_left(private, probe_queue):
    with celery_app_on(private.url):
        result = reconcile.apply_async(queue=QUEUE)
        assert result.state == "PENDING"  # the result backend connected there too

    assert len(redis.Redis.from_url(private.url).client_list()) == 1  # the one asking


def test_its_configuration_follows_djangos_settings_again_after(private, settings):
    with celery_app_on(private.url):
        pass
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = "redis://127.0.0.1:1/0"

    assert app.conf.broker_url == app.conf.result_backend == "redis://127.0.0.1:1/0"


def test_every_thread_reads_results_from_its_own_broker_after(private):
    with ThreadPoolExecutor(max_workers=1) as one_thread:
        with celery_app_on(private.url):
            inside = one_thread.submit(lambda: app.backend.url).result()
        after = one_thread.submit(lambda: app.backend.url).result()

    assert (inside, after) == (private.url, django_settings.CELERY_RESULT_BACKEND)


FIRST_THING = """
import django
django.setup()
from promise.celery import app
from tests.broker import celery_app_on
with celery_app_on("redis://127.0.0.1:1/0"):
    print(app.conf.broker_url)
print(app.conf.broker_url)
"""


def test_it_works_as_the_first_thing_a_process_does_with_celery():
    # Before the app reads its configuration, app.conf is a pending object of its own.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_THING], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert done.stdout.split() == ["redis://127.0.0.1:1/0", django_settings.CELERY_BROKER_URL], (
        done.stderr[-2000:]
    )
