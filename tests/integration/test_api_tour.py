"""A script with nothing but a personal token does, on the real worker, what a user does
on the pages: upload in pieces, read the profile and findings, read the file again, start a
run with the form's options, follow it, list and filter, read the leaderboard, insights and
charts, predict, export, cancel, retry and delete."""

import pytest
from django.test import Client
from django.urls import reverse

from analysis import tokens
from analysis.models import Dataset, Run
from tests.conftest import churn_frame
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(owner) -> Client:
    _, key = tokens.token_create(owner=owner, name="tour")
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def _json(response, status: int = 200):
    assert response.status_code == status, response.content[:500]
    return response.json()


def _post(api, url, body=None, status=200):
    return _json(api.post(url, body or {}, content_type="application/json"), status)


def _ready(api, dataset_id: int) -> dict:
    url = reverse("api_dataset_detail", args=[dataset_id])
    wait_for(
        lambda: api.get(url).json()["status"] in ("ready", "failed"), timeout=60, what="profile"
    )
    return _json(api.get(url))


def _over(api, run_id: int) -> dict:
    url = reverse("api_run_detail", args=[run_id])
    wait_for(lambda: api.get(url).json()["status"] not in Run.ACTIVE, timeout=300, what="the run")
    return _json(api.get(url))


def _upload(api, content: bytes) -> int:
    opened = _post(
        api, reverse("api_upload_begin"), {"name": "churn.csv", "size": len(content)}, 201
    )
    middle = len(content) // 2
    for offset, piece in ((0, content[:middle]), (middle, content[middle:])):
        response = api.put(
            f"{opened['url']}?offset={offset}", piece, content_type="application/octet-stream"
        )
        assert _json(response)["offset"] == offset + len(piece)
    return _post(api, opened["finish_url"], status=201)["id"]


def test_a_token_does_everything_the_pages_do(celery_worker, api):
    frame = churn_frame(rows=300)
    dataset_id = _upload(api, frame.to_csv(index=False).encode())
    dataset = _ready(api, dataset_id)
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["suggested_target"] == "churned" and isinstance(dataset["findings"], list)
    assert len(dataset["profile"]["preview"]) > 0

    reread = _post(api, reverse("api_dataset_reread", args=[dataset_id]), {"delimiter": ","}, 202)
    assert reread["status"] == "uploaded"
    assert _ready(api, dataset_id)["read_options"]["delimiter"] == ","

    settings = {"target": "churned", "metric": "f1_macro", "sample_strategy": "stratified",
                "excluded_columns": ["customer_id"], "time_budget": 20}  # fmt: skip
    run = _post(api, reverse("api_run_start", args=[dataset_id]), settings, 201)
    assert run["progress"]["stage"] and run["excluded_columns"] == ["customer_id"]
    run = _over(api, run["id"])
    assert run["status"] == "succeeded", run["error"]
    listed = _json(api.get(reverse("api_runs"), {"dataset": dataset_id, "status": "succeeded"}))
    assert [r["id"] for r in listed["results"]] == [run["id"]]

    board = _json(api.get(reverse("api_run_leaderboard", args=[run["id"]])))
    best = board[0]
    assert best["rank"] == 1 and best["status"] == "succeeded"
    assert _json(api.get(reverse("api_run_insights", args=[run["id"]])))["recommended"]
    charts = _json(api.get(reverse("api_run_charts", args=[run["id"]])))
    assert charts["run"] and charts["candidates"][str(best["id"])]
    assert _json(api.get(reverse("api_candidate_detail", args=[best["id"]])))["run"] == run["id"]

    row = frame.drop(columns=["churned"]).iloc[0].to_dict()
    predicted = _post(api, reverse("api_predict", args=[best["id"]]), {"rows": [row]})
    assert predicted["predictions"][0] in ("yes", "no")
    assert "train.py" in _json(api.get(reverse("api_export_files", args=[best["id"]])))

    assert api.post(reverse("api_run_retry", args=[run["id"]])).status_code == 409
    second = _post(api, reverse("api_run_start", args=[dataset_id]), {"target": "churned"}, 201)
    assert (
        _post(api, reverse("api_run_cancel", args=[second["id"]]), status=202)["status"]
        == "cancelled"
    )
    third = _post(api, reverse("api_run_retry", args=[second["id"]]), status=201)
    assert (
        _post(api, reverse("api_run_cancel", args=[third["id"]]), status=202)["status"]
        == "cancelled"
    )

    assert api.delete(reverse("api_dataset_detail", args=[dataset_id])).status_code == 204
    assert api.get(reverse("api_dataset_detail", args=[dataset_id])).status_code == 404
    assert not Dataset.objects.exists() and not Run.objects.exists()
