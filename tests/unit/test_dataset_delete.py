"""Deleting a dataset: the rows go first, the files only once the rows are gone."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Export, Run
from analysis.storage import dataset_path, run_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(owner, profiled_dataset) -> dict[str, Path]:
    """A dataset with a finished run, its model folder, an export and a Parquet copy."""
    run = Run.objects.create(
        owner=owner, dataset=profiled_dataset, target="b", status=Run.Status.SUCCEEDED
    )
    candidate = CandidateResult.objects.create(
        run=run, name="linear", label="Linear", status=CandidateResult.Status.SUCCEEDED
    )
    export = Export(owner=owner, candidate=candidate)
    export.file.save("promise-export.zip", ContentFile(b"zip"), save=True)
    model = run_dir(run) / "candidates" / "linear" / "model.joblib"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(b"model")
    source = dataset_path(profiled_dataset)
    copy = source.with_name(f".{source.name}.0.parquet")
    copy.write_bytes(b"parquet")
    return {
        "source": source,
        "copy": copy,
        "run_dir": run_dir(run),
        "export": Path(export.file.path),
    }


def test_it_removes_the_rows_and_then_every_file(
    owner_client, profiled_dataset, stored, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("dataset_delete", args=[profiled_dataset.pk]))

    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=profiled_dataset.pk).exists()
    assert [name for name, path in stored.items() if path.exists()] == []


def test_it_keeps_every_file_when_the_rows_cannot_be_deleted(
    owner, profiled_dataset, stored, monkeypatch, django_capture_on_commit_callbacks
):
    def fail(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(Dataset, "delete", fail)
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dataset_delete", args=[profiled_dataset.pk]))

    assert response.status_code == 500
    assert [name for name, path in stored.items() if not path.exists()] == []
