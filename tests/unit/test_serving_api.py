"""The serving numbers and the clear-caches action: staff only, as JSON and as a page."""

import shutil

import pytest
from django.test import Client
from django.urls import reverse

from analysis import serving, serving_metrics
from tests.unit import test_serving as shared
from tests.unit.test_serving import rows_of

# The serving tests' fixtures: a fresh model cache and no serving keys, a trained tree.
fresh_serving, run, tree = shared.fresh_serving, shared.run, shared.tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    return client


def test_staff_see_each_models_numbers(staff_client, tree):
    candidate, _, holdout = tree
    for _ in range(3):
        serving.predict_rows(candidate, rows_of(holdout))
    with pytest.raises(serving.PredictionError):
        serving.predict_rows(candidate, [{"nothing": 1}])
    body = staff_client.get(reverse("api_serving_metrics")).json()
    (model,) = body["models"]
    assert model["candidate"] == candidate.pk and "run" in model["name"]
    assert (model["requests"], model["errors"], model["cache_hits"]) == (4, 1, 2)
    assert model["cache_hit_rate"] == 0.5
    assert set(model["latency_ms"]) == {"p50", "p95", "p99"}
    assert model["latency_ms"]["p50"] > 0 and "requests_per_second" in model
    (where,) = model["loaded_in"]
    assert where["process"] == serving_metrics.process_name() and where["path"] == "onnx"
    assert where["bytes"] > 0
    assert body["this_process"]["models"][str(candidate.pk)]["path"] == "onnx"


def test_others_are_refused(owner_client, client):
    assert owner_client.get(reverse("api_serving_metrics")).status_code == 403
    assert owner_client.post(reverse("api_serving_clear")).status_code == 403
    assert client.get(reverse("api_serving_metrics")).status_code == 401
    assert owner_client.get(reverse("serving_page")).status_code == 404
    assert owner_client.post(reverse("serving_clear")).status_code == 404
    assert client.get(reverse("serving_page")).status_code == 302  # to the log-in page


def test_staff_clear_the_caches_through_the_api(staff_client, tree):
    candidate, _, holdout = tree
    serving.predict_rows(candidate, rows_of(holdout))
    response = staff_client.post(reverse("api_serving_clear"))
    assert response.json() == {"cleared": True, "cached_answers_removed": 1}
    assert serving.MODELS.loaded() == {}


def test_the_staff_page_shows_the_numbers_and_clears_the_caches(staff_client, tree):
    candidate, _, holdout = tree
    serving.predict_rows(candidate, rows_of(holdout))
    page = staff_client.get(reverse("serving_page"))
    assert page.status_code == 200
    assert b'data-testid="serving-models"' in page.content
    assert f"{candidate.label} · run {candidate.run_id}".encode() in page.content
    assert b"<script" not in page.content.split(b"<main")[-1]
    answer = staff_client.post(reverse("serving_clear"), follow=True)
    assert b"Caches cleared: 1 cached answer removed" in answer.content
    assert serving.MODELS.loaded() == {}


def test_the_numbers_say_so_when_redis_does_not_answer(staff_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = staff_client.get(reverse("api_serving_metrics"))
    assert response.status_code == 503 and "Redis" in response.json()["error"]
    assert staff_client.get(reverse("serving_page")).status_code == 503


def test_the_prediction_page_of_a_model_whose_files_went_away_is_not_found(owner_client, tree):
    candidate, _, holdout = tree
    assert owner_client.get(reverse("candidate_predict", args=[candidate.pk])).status_code == 200
    shutil.rmtree(candidate.model_dir)
    assert owner_client.get(reverse("candidate_predict", args=[candidate.pk])).status_code == 404
    answer = owner_client.post(
        reverse("api_predict", args=[candidate.pk]),
        {"rows": rows_of(holdout, 1)},
        content_type="application/json",
    )
    assert answer.status_code == 400 and "train it again" in answer.json()["error"]
