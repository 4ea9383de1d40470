import json
import time
from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from analysis import reconcile
from analysis.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_reports_database_redis_and_worker_healthy(celery_worker, client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["worker"]["workers"]


def test_it_reports_a_redis_that_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False


@pytest.fixture
def last_pass(settings):
    """What the reconciler's last pass left in Redis, set by the test (no beat runs here)."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def set_last(seconds_ago: float | None) -> None:
        if seconds_ago is None:
            client.delete(reconcile.LAST_PASS)
        else:
            last = {"at": time.time() - seconds_ago, "orphans": [], "sent": [], "failed": []}
            client.set(reconcile.LAST_PASS, json.dumps(last))

    yield set_last
    client.delete(reconcile.LAST_PASS, reconcile.SUSPECTS)


def test_it_says_degraded_when_no_reconciler_pass_came_lately(celery_worker, client, last_pass):
    last_pass(None)
    body = client.get(reverse("healthz")).json()
    assert (body["status"], body["ok"], body["reconciler"]["ok"]) == ("degraded", False, False)

    last_pass(1)
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["ok"], body["reconciler"]["ok"]) == ("ok", True, True)


def test_it_reports_a_run_long_past_its_time_budget(
    celery_worker, client, last_pass, owner, profiled_dataset, settings
):
    last_pass(1)
    late = settings.PROMISE_STALLED_RUN_SECONDS + 60 + 10
    Run.objects.create(  # on time: not reported
        owner=owner, dataset=profiled_dataset, target="b", status=Run.Status.TRAINING,
        time_budget=60, started_at=timezone.now() - timedelta(seconds=60),
    )  # fmt: skip
    stalled = Run.objects.create(
        owner=owner, dataset=profiled_dataset, target="b", status=Run.Status.TRAINING,
        time_budget=60, started_at=timezone.now() - timedelta(seconds=late),
    )  # fmt: skip

    response = client.get(reverse("healthz"))

    body = response.json()
    assert response.status_code == 200  # the web and the workers are up: no restart helps
    assert body["status"] == "degraded"
    assert body["runs"]["stalled"] == [stalled.pk]
    assert "made no progress" in body["runs"]["message"]
