"""What the pages do, the API does: delete and re-read a dataset, cancel and retry a run,
its leaderboard, insights, charts and comparisons, one candidate; all in one error format,
and none of it open to another user."""

import pytest
from django.test import Client
from django.urls import reverse

from analysis import selectors
from analysis.models import CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(owner, profiled_dataset):
    return Run.objects.create(
        owner=owner, dataset=profiled_dataset, target="b", metric="r2", insights=["b is skewed"]
    )


@pytest.fixture
def candidates(run):
    return [
        CandidateResult.objects.create(
            run=run, name=name, label=name.title(), rank=rank, status="succeeded",
            metrics={"r2": score}, params={"alpha": rank}, cv_mean=score,
        )
        for name, rank, score in (("linear", 1, 0.9), ("decision_tree", 2, 0.8))
    ]  # fmt: skip


def test_it_deletes_a_dataset(owner_client, profiled_dataset):
    response = owner_client.delete(reverse("api_dataset_detail", args=[profiled_dataset.pk]))
    assert response.status_code == 204 and not Dataset.objects.exists()


def test_it_does_not_delete_another_users_dataset(outsider_client, profiled_dataset):
    response = outsider_client.delete(reverse("api_dataset_detail", args=[profiled_dataset.pk]))
    assert response.status_code == 404 and Dataset.objects.exists()


def test_the_detail_has_findings_and_the_suggested_target(owner_client, profiled_dataset):
    profiled_dataset.profile["findings"] = [
        {"code": "x", "severity": "info", "message": "minor"},
        {"code": "y", "severity": "error", "message": "major"},
    ]
    profiled_dataset.save()
    body = owner_client.get(reverse("api_dataset_detail", args=[profiled_dataset.pk])).json()
    assert [f["message"] for f in body["findings"]] == ["major", "minor"]
    assert body["suggested_target"] == "b" and body["read_options"] == {}
    assert body["suggested_target_reason"].startswith("it is the last column")


def test_it_reads_a_dataset_again_with_overrides(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_dataset_reread", args=[profiled_dataset.pk]),
        {"delimiter": ";", "header_row": 2},
        content_type="application/json",
    )
    assert response.status_code == 202 and response.json()["status"] == "uploaded"
    profiled_dataset.refresh_from_db()
    assert (
        profiled_dataset.read_options["delimiter"],
        profiled_dataset.read_options["header_row"],
    ) == (";", 2)


def test_it_refuses_reading_options_by_field(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_dataset_reread", args=[profiled_dataset.pk]),
        {"delimiter": "#", "header_row": -1},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"delimiter", "header_row"}


def test_it_lists_and_creates_the_examples(owner_client):
    slugs = [e["slug"] for e in owner_client.get(reverse("api_examples")).json()]
    assert "iris" in slugs
    missing = owner_client.post(reverse("api_example_create", args=["nope"]))
    assert missing.status_code == 404 and "iris" in missing.json()["error"]


def test_it_cancels_a_run_once(owner_client, run):
    first = owner_client.post(reverse("api_run_cancel", args=[run.pk]))
    again = owner_client.post(reverse("api_run_cancel", args=[run.pk]))
    assert (first.status_code, first.json()["status"]) == (202, "cancelled")
    assert again.status_code == 409 and "nothing to cancel" in again.json()["error"]


def test_it_retries_a_cancelled_run_with_its_settings(owner_client, run):
    run.status = Run.Status.CANCELLED
    run.save()
    response = owner_client.post(reverse("api_run_retry", args=[run.pk]))
    assert response.status_code == 201
    assert response.json()["id"] != run.pk and response.json()["target"] == "b"


def test_it_refuses_to_retry_an_active_run(owner_client, run):
    response = owner_client.post(reverse("api_run_retry", args=[run.pk]))
    assert response.status_code == 409 and "failed or cancelled" in response.json()["error"]


def test_the_run_detail_has_live_progress(owner_client, run, candidates):
    body = owner_client.get(reverse("api_run_detail", args=[run.pk])).json()
    assert body["progress"]["total"] == 2 and body["progress"]["stage"] == "Waiting for a worker"


def test_it_answers_the_leaderboard_best_first(owner_client, run, candidates):
    board = owner_client.get(reverse("api_run_leaderboard", args=[run.pk])).json()
    assert [c["name"] for c in board] == ["linear", "decision_tree"]


def test_it_answers_the_insights(owner_client, run):
    body = owner_client.get(reverse("api_run_insights", args=[run.pk])).json()
    assert body["insights"] == ["b is skewed"]


def test_it_draws_the_charts_of_a_succeeded_run(owner_client, run, candidates):
    assert owner_client.get(reverse("api_run_charts", args=[run.pk])).json()["run"] == []
    run.status = Run.Status.SUCCEEDED
    run.save()
    body = owner_client.get(reverse("api_run_charts", args=[run.pk])).json()
    assert "metric-per-model" in [f["id"] for f in body["run"]]
    assert set(body["candidates"]) == {str(c.pk) for c in candidates}


def test_it_compares_two_candidates(owner_client, run, candidates):
    query = {"first": candidates[0].pk, "second": candidates[1].pk}
    rows = owner_client.get(reverse("api_run_compare", args=[run.pk]), query).json()
    assert {"label": "param: alpha", "values": [1, 2]} in rows


def test_it_refuses_a_comparison_with_a_candidate_of_another_run(owner_client, run, candidates):
    query = {"first": candidates[0].pk, "second": 10**9}
    response = owner_client.get(reverse("api_run_compare", args=[run.pk]), query)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["second"]


def test_it_compares_two_runs_of_a_dataset(owner_client, run, owner, profiled_dataset):
    other = Run.objects.create(owner=owner, dataset=profiled_dataset, target="a")
    rows = owner_client.get(reverse("api_run_compare_runs", args=[run.pk]), {"other": other.pk})
    assert {"label": "Target", "values": ["b", "a"]} in rows.json()


def test_it_answers_a_candidate_with_its_confirmation(owner_client, candidates):
    body = owner_client.get(reverse("api_candidate_detail", args=[candidates[0].pk])).json()
    assert body["run"] == candidates[0].run_id and body["confirmation"]["status"] == ""


@pytest.mark.parametrize(
    "name", ["api_run_leaderboard", "api_run_insights", "api_run_charts", "api_run_cancel"]
)
def test_it_hides_another_users_run(outsider_client, run, name):
    method = outsider_client.post if name == "api_run_cancel" else outsider_client.get
    response = method(reverse(name, args=[run.pk]))
    assert response.status_code == 404
    assert response.json() == {"error": "Not found: there is no such object, or it is not yours."}


def test_it_hides_another_users_candidate(outsider_client, candidates):
    response = outsider_client.get(reverse("api_candidate_charts", args=[candidates[0].pk]))
    assert response.status_code == 404


def test_it_says_how_to_log_in(client, run):
    response = client.get(reverse("api_run_detail", args=[run.pk]))
    assert response.status_code == 401 and "Authorization: Token" in response.json()["error"]


def test_it_answers_a_wrong_method_in_the_same_format(owner_client, run):
    response = owner_client.put(reverse("api_run_detail", args=[run.pk]))
    assert response.status_code == 405 and response.json() == {"error": 'Method "PUT" not allowed.'}


def test_it_names_every_invalid_run_setting(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b", "time_budget": 1, "metric": "luck", "excluded_columns": [""]},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400 and body["error"].startswith("Invalid run settings: ")
    assert set(body["fields"]) == {"time_budget", "metric", "excluded_columns"}
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)


def test_an_unknown_api_address_answers_in_the_same_format(owner_client):
    response = owner_client.get("/api/no-such-thing/")
    assert response.status_code == 404 and "/api/docs/" in response.json()["error"]


def test_an_unknown_page_still_gets_the_page(owner_client):
    response = owner_client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_server_error_in_the_api_answers_a_sentence(owner, monkeypatch):
    def broken(user):
        raise RuntimeError("forced")

    monkeypatch.setattr(selectors, "datasets_of", broken)
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    response = client.get(reverse("api_datasets"))
    assert response.status_code == 500 and "went wrong" in response.json()["error"]
