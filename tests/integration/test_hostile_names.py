"""Hostile file names, through the real path: the upload views and API, the database
(SQLite, and PostgreSQL, which refuses a NUL in text), the storage and the worker."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import Dataset
from tests.conftest import churn_frame
from tests.worker import wait_for

CONTENT = churn_frame(rows=60).to_csv(index=False).encode()


def profiled(dataset_id: int) -> Dataset:
    wait_for(
        lambda: Dataset.objects.get(pk=dataset_id).status in ("ready", "failed"),
        timeout=60,
        what="the profile",
    )
    return Dataset.objects.get(pk=dataset_id)


def chunked_upload(client, name: str) -> dict:
    opened = client.post(
        reverse("api_upload_begin"),
        {"name": name, "size": len(CONTENT)},
        content_type="application/json",
    ).json()
    client.put(opened["url"] + "?offset=0", CONTENT, content_type="application/octet-stream")
    return client.post(opened["finish_url"])


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_in_a_chunked_uploads_name_is_left_out(celery_worker, owner_client):
    response = chunked_upload(owner_client, "churn\x00.csv")

    assert response.status_code == 201
    dataset = profiled(response.json()["id"])
    assert (dataset.name, dataset.status) == ("churn.csv", "ready")


@pytest.mark.django_db(transaction=True)
def test_a_1000_character_name_uploaded_twice_is_read_twice(celery_worker, owner_client):
    name = "n" * 1000 + ".csv"

    ids = []
    for _ in range(2):
        response = owner_client.post(
            reverse("dataset_upload"), {"file": SimpleUploadedFile(name, CONTENT)}
        )
        assert response.status_code == 302
        ids.append(Dataset.objects.latest("pk").pk)
    ids.append(chunked_upload(owner_client, name).json()["id"])

    datasets = [profiled(pk) for pk in ids]
    assert [d.status for d in datasets] == ["ready"] * 3, [d.error for d in datasets]
    assert len({d.file.name for d in datasets}) == 3
    assert all(len(Path(d.file.name).name.encode()) <= 110 for d in datasets)
