"""Deployments through the API: the split over 2,000 requests, request ids, shadow mode,
forcing an arm, rollback and promotion with their history, the numbers per arm, and
refusals (4xx with a sentence, never 500; another user's deployment is not found)."""

import pytest
from django.urls import reverse

from analysis import deployment_serving, serving
from analysis.deployments import Deployment
from tests.unit import deployment_world as world
from tests.unit import test_serving as shared
from tests.unit.deployment_world import create, metrics, patch, post, predict

# A fresh model cache and no serving keys; two trained models and the owner's candidates.
fresh_serving, pair, saved_models = shared.fresh_serving, world.pair, world.saved_models

pytestmark = pytest.mark.django_db

REQUESTS = 2000


def _arms_of(client, deployment_id, rows, count, **extra):
    seen = {"champion": 0, "challenger": 0}
    for n in range(count):
        response = predict(client, deployment_id, [rows[n % len(rows)]], **extra)
        assert response.status_code == 200, response.content
        seen[response.json()["arm"]] += 1
    return seen


def test_it_splits_2000_requests_within_five_points_of_the_setting(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=30)
    seen = _arms_of(owner_client, deployment["id"], rows, REQUESTS)
    assert abs(seen["challenger"] / REQUESTS - 0.30) <= 0.05, seen
    numbers = metrics(owner_client, deployment["id"])["arms"]
    assert numbers["challenger"]["answered"] == seen["challenger"]
    assert numbers["champion"]["answered"] == seen["champion"]


def test_it_splits_by_request_id_and_keeps_an_id_on_one_arm(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=70)
    arms = {}
    for n in range(200):
        body = predict(owner_client, deployment["id"], rows[:1], request_id=f"user-{n}").json()
        assert body["assigned_by"] == "request_id"
        arms[n] = body["arm"]
    for n in range(0, 200, 7):  # asked again, each id lands where it did
        again = predict(owner_client, deployment["id"], rows[:1], request_id=f"user-{n}")
        assert again.json()["arm"] == arms[n]
    stored = Deployment.objects.get(pk=deployment["id"])
    assert all(  # the same rule as the API's, which the split over many ids follows
        deployment_serving.choose_arm(stored, request_id=f"user-{n}")[0] == arms[n]
        for n in range(200)
    )
    drawn = [deployment_serving.choose_arm(stored, request_id=f"u{n}")[0] for n in range(REQUESTS)]
    assert abs(drawn.count("challenger") / REQUESTS - 0.70) <= 0.05


def test_each_answer_says_which_model_answered(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=100)
    body = predict(owner_client, deployment["id"], rows[:5]).json()
    assert (body["arm"], body["candidate"], body["model"]) == (
        "challenger",
        challenger.pk,
        "linear",
    )
    assert body["predictions"] == serving.predict_rows(challenger, rows[:5])["predictions"]
    assert body["shadowed"] is False and body["deployment"] == deployment["id"]


def test_it_answers_with_the_forced_arm(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=0)
    body = predict(owner_client, deployment["id"], rows[:20], arm="challenger").json()
    assert (body["arm"], body["candidate"], body["assigned_by"]) == (
        "challenger",
        challenger.pk,
        "forced",
    )
    assert body["probabilities"] == serving.predict_rows(challenger, rows[:20])["probabilities"]
    assert predict(owner_client, deployment["id"], rows[:1]).json()["arm"] == "champion"


def test_in_shadow_mode_the_champion_answers_and_the_challenger_is_measured(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, mode="shadow", challenger_percent=50)
    for start in range(0, 100, 10):
        body = predict(owner_client, deployment["id"], rows[start : start + 10]).json()
        assert (body["arm"], body["assigned_by"], body["shadowed"]) == ("champion", "shadow", True)
        assert (
            body["predictions"]
            == serving.predict_rows(champion, rows[start : start + 10])["predictions"]
        )
    assert deployment_serving.SHADOWS.wait(timeout=30)
    numbers = metrics(owner_client, deployment["id"])
    assert numbers["arms"]["champion"]["answered"] == 10
    assert numbers["arms"]["challenger"]["answered"] == 0
    assert numbers["arms"]["challenger"]["shadowed"] == 10
    tree = serving.predict_rows(champion, rows[:100])["predictions"]
    line = serving.predict_rows(challenger, rows[:100])["predictions"]
    same = sum(a == b for a, b in zip(tree, line, strict=True))
    assert numbers["shadow"]["rows"] == 100 and numbers["shadow"]["requests"] == 10
    assert numbers["shadow"]["agreement"] == same / 100
    assert 0 < same < 100  # two different models: the agreement says something


def test_a_forced_request_in_shadow_mode_is_not_shadowed(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, mode="shadow")
    body = predict(owner_client, deployment["id"], rows[:3], arm="challenger").json()
    assert (body["arm"], body["shadowed"]) == ("challenger", False)
    assert deployment_serving.SHADOWS.wait(timeout=30)
    assert metrics(owner_client, deployment["id"])["shadow"]["requests"] == 0


def test_rollback_and_promotion_are_recorded_with_who_and_when(owner_client, owner, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=10)
    assert patch(owner_client, deployment["id"], {"challenger_percent": 100}).status_code == 200
    assert predict(owner_client, deployment["id"], rows[:1]).json()["arm"] == "challenger"
    assert patch(owner_client, deployment["id"], {"challenger_percent": 0}).status_code == 200
    assert predict(owner_client, deployment["id"], rows[:1]).json()["arm"] == "champion"
    body = patch(owner_client, deployment["id"], {"mode": "shadow"}).json()
    history = [(c["action"], c["mode"], c["challenger_percent"]) for c in body["history"]]
    assert history == [
        ("shadow", "shadow", 0),
        ("rollback", "split", 0),
        ("promotion", "split", 100),
        ("created", "split", 10),
    ]
    assert {c["by"] for c in body["history"]} == {owner.username}
    assert all(c["at"] for c in body["history"])


def test_a_setting_that_changes_nothing_is_not_recorded(owner_client, pair):
    champion, challenger, _ = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=10)
    body = patch(owner_client, deployment["id"], {"challenger_percent": 10}).json()
    assert len(body["history"]) == 1


def test_the_numbers_per_arm_hold_latency_errors_and_the_predictions_shares(owner_client, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, challenger_percent=0)
    predict(owner_client, deployment["id"], rows[:50])
    assert predict(owner_client, deployment["id"], [{"nothing": 1}]).status_code == 400
    arm = metrics(owner_client, deployment["id"])["arms"]["champion"]
    assert (arm["answered"], arm["errors"], arm["rows"]) == (2, 1, 50)
    assert arm["error_rate"] == 0.5 and arm["latency_ms"]["p50"] > 0
    labels = arm["predictions"]["labels"]
    expected = serving.predict_rows(champion, rows[:50])["predictions"]
    assert {k: v["rows"] for k, v in labels.items()} == {
        str(label): expected.count(label) for label in set(expected)
    }


def test_the_list_has_the_owners_deployments_a_page_at_a_time(owner_client, outsider_client, pair):
    champion, challenger, _ = pair
    first = create(owner_client, champion, challenger)
    body = owner_client.get(reverse("api_deployments")).json()
    assert body["count"] == 1 and body["results"][0]["id"] == first["id"]
    assert body["results"][0]["champion"]["id"] == champion.pk
    assert outsider_client.get(reverse("api_deployments")).json()["count"] == 0


def test_delete_removes_the_deployment_and_its_numbers(
    owner_client, pair, django_capture_on_commit_callbacks
):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger)
    predict(owner_client, deployment["id"], rows[:2])
    url = reverse("api_deployment_detail", args=[deployment["id"]])
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(url).status_code == 204
    assert owner_client.get(url).status_code == 404
    r = serving_metrics_client()
    assert not list(r.scan_iter(match=f"serving:deployment:{deployment['id']}:*"))


def serving_metrics_client():
    from analysis import serving_metrics

    return serving_metrics.client()


def test_another_users_deployment_is_not_found(owner_client, outsider_client, client, pair):
    champion, challenger, rows = pair
    pk = create(owner_client, champion, challenger)["id"]
    detail = reverse("api_deployment_detail", args=[pk])
    assert outsider_client.get(detail).status_code == 404
    assert patch(outsider_client, pk, {"challenger_percent": 100}).status_code == 404
    assert outsider_client.delete(detail).status_code == 404
    assert predict(outsider_client, pk, rows[:1]).status_code == 404
    assert outsider_client.get(reverse("api_deployment_metrics", args=[pk])).status_code == 404
    assert client.get(detail).status_code == 401
    assert owner_client.get(detail).json()["challenger_percent"] == 0


def test_another_users_candidate_cannot_be_deployed(owner_client, outsider_client, pair):
    champion, challenger, _ = pair
    body = {"name": "x", "champion": champion.pk, "challenger": challenger.pk}
    response = post(outsider_client, "api_deployments", body)
    assert response.status_code == 400 and "champion" in response.json()["fields"]
