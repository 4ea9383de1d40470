import pytest
from django.urls import reverse

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
