"""The uploaded file's SHA-256: stored by the profile task, and named by every export.

Through the real path: the upload view, the Celery worker on Redis, the database; and the
export service on a run trained by the AutoML core into the run's own folder.
"""

import hashlib
import io
import json

import pytest
from django.urls import reverse

from analysis import services
from analysis.models import CandidateResult, Dataset
from tests.conftest import churn_frame
from tests.integration.trained import trained_linear_candidate
from tests.worker import wait_for

# A semicolon-separated file: the record must say how it was read.
CONTENT = churn_frame(rows=200).to_csv(index=False, sep=";").encode()


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_sha256_of_the_uploaded_file_when_profiling(celery_worker, owner_client):
    upload = io.BytesIO(CONTENT)
    upload.name = "churn.csv"

    response = owner_client.post(reverse("dataset_upload"), {"file": upload})

    assert response.status_code == 302
    dataset = Dataset.objects.latest("created_at")
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status in ("ready", "failed"),
        timeout=60,
        what="the profile",
    )
    dataset.refresh_from_db()
    assert dataset.status == "ready", dataset.error
    assert dataset.sha256 == hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def trained_candidate(owner):
    """A linear model trained on a dataset profiled before hashes were stored (blank)."""
    candidate = trained_linear_candidate(owner, CONTENT)
    Dataset.objects.filter(pk=candidate.run.dataset_id).update(sha256="")
    return CandidateResult.objects.select_related("run__dataset").get(pk=candidate.pk)


@pytest.mark.django_db
def test_an_export_of_a_dataset_without_a_stored_hash_records_and_stores_it(trained_candidate):
    assert trained_candidate.run.dataset.sha256 == ""

    files = services.export_files(candidate=trained_candidate)

    record = json.loads(files["config.json"])["reproducibility"]
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert record["data_file"]["sha256"] == digest
    assert record["data_file"]["read_options"]["delimiter"] == ";"
    assert Dataset.objects.get(pk=trained_candidate.run.dataset_id).sha256 == digest
    assert f'DISCOVERY_SHA256 = "{digest}"' in files["train.py"]


@pytest.mark.django_db
def test_an_export_records_the_candidates_own_folds(trained_candidate):
    files = services.export_files(candidate=trained_candidate)

    folds = json.loads(files["config.json"])["reproducibility"]["cross_validation"]
    assert folds["n_splits"] == len(trained_candidate.cv_scores) > 1
    assert folds["splitter"] == "StratifiedKFold"
    assert folds["fold_scores"] == pytest.approx(trained_candidate.cv_scores)
