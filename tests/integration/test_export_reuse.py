"""Asking for a model's export again serves the zip already stored, until the model changes.

Through the real path: the page's download button and the API, on a candidate trained
by the AutoML core into its run's own folder.
"""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from analysis.models import CandidateResult
from analysis.storage import run_dir
from tests.conftest import churn_frame
from tests.integration.trained import trained_linear_candidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained_candidate(owner) -> CandidateResult:
    return trained_linear_candidate(owner, churn_frame(rows=200).to_csv(index=False).encode())


def _download(client, candidate: CandidateResult) -> bytes:
    response = client.get(reverse("api_export_zip", args=[candidate.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_it_serves_the_same_stored_zip_when_asked_twice(owner_client, trained_candidate):
    first = _download(owner_client, trained_candidate)
    second = _download(owner_client, trained_candidate)

    assert second == first
    assert trained_candidate.exports.count() == 1


def test_the_page_and_the_api_serve_one_zip(owner_client, trained_candidate):
    page = owner_client.post(reverse("candidate_export", args=[trained_candidate.pk]))
    from_page = b"".join(page.streaming_content)

    assert _download(owner_client, trained_candidate) == from_page
    assert trained_candidate.exports.count() == 1


def test_it_builds_a_new_zip_once_the_model_has_new_scores(owner_client, trained_candidate):
    first = _download(owner_client, trained_candidate)
    # What a second round that improves the model writes over the first round's result.
    better = {**trained_candidate.metrics, "accuracy": 0.99}
    CandidateResult.objects.filter(pk=trained_candidate.pk).update(metrics=better)

    second = _download(owner_client, trained_candidate)

    assert second != first
    config = json.loads(zipfile.ZipFile(io.BytesIO(second)).read("config.json"))
    assert config["holdout_metrics"]["accuracy"] == 0.99
    assert trained_candidate.exports.count() == 2


def test_a_model_saved_in_the_earlier_format_is_refused_with_a_sentence(
    owner_client, trained_candidate
):
    # Before the Pipeline was one artifact, model.json had no checksum of it.
    meta = run_dir(trained_candidate.run) / "candidates" / "linear" / "model.json"
    meta.write_text(json.dumps({"family": "linear", "task": "binary"}))

    response = owner_client.get(reverse("api_export_zip", args=[trained_candidate.pk]))

    assert response.status_code == 400
    assert "earlier version of PROMISE" in json.dumps(response.json())
    assert trained_candidate.exports.count() == 0
