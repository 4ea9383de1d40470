"""A deployment's numbers in Redis: numbers predicted by a regression arm summarised, the
agreement of two arms, and a Redis that does not answer costing the numbers only."""

import pytest
from django.urls import reverse

from analysis import deployment_metrics
from tests.unit import deployment_world as world
from tests.unit import test_serving as shared
from tests.unit.deployment_world import create, predict

fresh_serving, pair, saved_models = shared.fresh_serving, world.pair, world.saved_models

pytestmark = pytest.mark.django_db


def test_a_regression_arms_numbers_are_summarised():
    deployment_metrics.record(7001, "challenger", 0.002, result={"predictions": [1.0, 2.0, 3.0]})
    deployment_metrics.record(7001, "challenger", 0.004, result={"predictions": [4.0]})
    arm = deployment_metrics.summary(7001)["arms"]["challenger"]
    assert (arm["answered"], arm["rows"], arm["errors"]) == (2, 4, 0)
    numbers = arm["predictions"]["numbers"]
    assert (numbers["samples"], numbers["mean"]) == (4, 2.5)
    assert numbers["p50"] == 2.5 and arm["latency_ms"]["p50"] == 3.0


def test_agreement_on_shadowed_requests_is_counted_by_rows():
    deployment_metrics.record_agreement(
        7002, {"predictions": ["a", "b"]}, {"predictions": ["a", "a"]}
    )
    deployment_metrics.record_agreement(7002, {"predictions": [10.0]}, {"predictions": [10.2]})
    shadow = deployment_metrics.summary(7002)["shadow"]
    assert (shadow["requests"], shadow["rows"], shadow["agreement"]) == (2, 3, round(2 / 3, 4))
    assert shadow["mean_abs_difference"] == pytest.approx(0.2 / 3, abs=1e-6)


def test_without_redis_predictions_are_still_answered(owner_client, pair, settings):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=50)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    answer = predict(owner_client, deployment["id"], rows[:3])
    assert answer.status_code == 200, answer.content
    assert len(answer.json()["predictions"]) == 3
    numbers = owner_client.get(reverse("api_deployment_metrics", args=[deployment["id"]]))
    assert numbers.status_code == 503 and "Redis" in numbers.json()["error"]
    page = owner_client.get(reverse("deployment_page", args=[deployment["id"]]))
    assert page.status_code == 200 and b"Redis, which does not answer" in page.content
