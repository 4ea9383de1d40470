"""Deployments refuse what they cannot take with a 400 and a sentence (by field where
there is one), never a 500: unknown fields, bad settings, pairs that cannot be deployed
together, and prediction requests that are not rows."""

import pytest

from analysis import deployment_metrics
from analysis.models import Run
from tests.unit import deployment_world as world
from tests.unit import test_serving as shared
from tests.unit.deployment_world import candidate, create, patch, post, predict

fresh_serving, pair, saved_models = shared.fresh_serving, world.pair, world.saved_models

pytestmark = pytest.mark.django_db


def _refused(response, field=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]
    if field:
        assert field in body.get("fields", {}), body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"challenger_percent": 101}, "challenger_percent"),
        ({"challenger_percent": -1}, "challenger_percent"),
        ({"challenger_percent": "half"}, "challenger_percent"),
        ({"challenger_percent": 12.5}, "challenger_percent"),
        ({"mode": "canary"}, "mode"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"champion": "one"}, "champion"),
        ({"challenger": 10**12}, "challenger"),
    ],
)
def test_it_refuses_a_bad_creation(owner_client, pair, change, field):
    champion, challenger, _ = pair
    body = {"name": "churn", "champion": champion.pk, "challenger": challenger.pk, **change}
    _refused(post(owner_client, "api_deployments", body), field)


def test_it_refuses_one_model_twice(owner_client, pair):
    champion, _, _ = pair
    body = {"name": "x", "champion": champion.pk, "challenger": champion.pk}
    _refused(post(owner_client, "api_deployments", body), "challenger")


def test_it_refuses_models_of_another_dataset_or_target(owner_client, owner, pair, saved_models):
    champion, challenger, _ = pair
    other_target = Run.objects.create(owner=owner, dataset=champion.run.dataset, target="z")
    elsewhere = candidate(other_target, saved_models["linear"][0], "linear")
    body = {"name": "x", "champion": champion.pk, "challenger": elsewhere.pk}
    response = post(owner_client, "api_deployments", body)
    _refused(response, "challenger")
    assert "different columns" in response.json()["error"]


def test_it_refuses_a_model_that_is_not_trained(owner_client, pair):
    champion, challenger, _ = pair
    challenger.status = "failed"
    challenger.save()
    body = {"name": "x", "champion": champion.pk, "challenger": challenger.pk}
    _refused(post(owner_client, "api_deployments", body), "challenger")


def test_two_runs_on_one_dataset_can_be_deployed_together(owner_client, owner, pair, saved_models):
    champion, _, rows = pair
    second_run = Run.objects.create(owner=owner, dataset=champion.run.dataset, target="y")
    other = candidate(second_run, saved_models["linear"][0], "linear")
    deployment = create(owner_client, champion, other, challenger_percent=100)
    assert predict(owner_client, deployment["id"], rows[:1]).json()["candidate"] == other.pk


@pytest.mark.parametrize(
    "body",
    [
        {"challenger_percent": 50, "colour": "red"},
        {"challenger_percent": 150},
        {"challenger_percent": None},
        {"mode": "both"},
        {},
        [],
        "split",
    ],
)
def test_it_refuses_a_bad_setting(owner_client, pair, body):
    champion, challenger, _ = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=20)
    _refused(patch(owner_client, deployment["id"], body))
    detail = owner_client.get(f"/api/deployments/{deployment['id']}/").json()
    assert detail["challenger_percent"] == 20 and len(detail["history"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rows": [{"x": 1}], "colour": "red"}, "colour"),
        ({"rows": [{"x": 1}], "arm": "third"}, "arm"),
        ({"rows": [{"x": 1}], "request_id": "r" * 201}, "request_id"),
        ({"rows": [{"x": 1}], "request_id": {"a": 1}}, "request_id"),
        ({"rows": "x=1"}, None),
        ({"rows": [1, 2]}, None),
        ({"row": [1, 2]}, None),
        ({"row": {"x": 1}, "rows": [{"x": 1}]}, None),
        ({}, None),
        ({"rows": []}, None),
        ({"rows": [{"nothing": 1}]}, "x"),
    ],
)
def test_it_refuses_bad_prediction_requests(owner_client, pair, body, field):
    champion, challenger, _ = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=50)
    _refused(post(owner_client, "api_deployment_predict", body, deployment["id"]), field)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"x": {"deep": 1}}, "x"), ({"amount": 1e300}, "amount"), ({"amount": "lots"}, "amount")],
)
@pytest.mark.parametrize("arm", ["champion", "challenger"])
def test_each_record_is_checked_against_the_answering_model(owner_client, pair, change, field, arm):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger)
    body = {"row": {**rows[0], **change}, "arm": arm}
    _refused(post(owner_client, "api_deployment_predict", body, deployment["id"]), field)
    missing = {k: v for k, v in rows[0].items() if k != "amount"}
    response = post(
        owner_client, "api_deployment_predict", {"row": missing, "arm": arm}, deployment["id"]
    )
    _refused(response, "amount")


def test_one_record_is_answered_with_the_columns_it_ignored(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger)
    body = {"row": {**rows[0], "comment": "hello"}}
    answer = post(owner_client, "api_deployment_predict", body, deployment["id"])
    assert answer.status_code == 200, answer.content
    assert answer.json()["ignored_columns"] == ["comment"]
    assert len(answer.json()["predictions"]) == 1


def test_it_refuses_a_body_that_is_not_json(owner_client, pair):
    champion, challenger, _ = pair
    deployment = create(owner_client, champion, challenger)
    response = owner_client.post(
        f"/api/deployments/{deployment['id']}/predict/", "rows=1", content_type="application/json"
    )
    _refused(response)


def test_agreement_counts_labels_and_numbers_within_five_percent():
    assert deployment_metrics.agreement(["a", "b", 1], ["a", "c", "1"]) == (2, 0.0)
    agreed, difference = deployment_metrics.agreement([100.0, 100.0, 0.0], [104.0, 110.0, 0.0])
    assert agreed == 2 and difference == pytest.approx(14.0)
