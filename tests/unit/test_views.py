"""User mistakes get a clear message and a 4xx, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_dataset(profiled_dataset):
    return profiled_dataset


def test_it_refuses_an_empty_upload_with_a_message(owner_client):
    response = owner_client.post(
        reverse("dataset_upload"), {"file": SimpleUploadedFile("empty.csv", b"")}
    )
    assert response.status_code == 400
    assert b"empty" in response.content
    assert not Dataset.objects.exists()


def test_it_refuses_a_file_over_the_limit(owner_client, settings):
    settings.PROMISE_MAX_UPLOAD_BYTES = 10
    response = owner_client.post(
        reverse("dataset_upload"), {"file": SimpleUploadedFile("big.csv", b"a,b\n" * 10)}
    )
    assert response.status_code == 400
    assert b"limit" in response.content


def test_it_refuses_a_target_that_is_not_a_column(owner_client, ready_dataset):
    response = owner_client.post(
        reverse("dataset_detail", args=[ready_dataset.pk]),
        {"target": "nope", "sample": "default", "time_budget": 60},
    )
    assert response.status_code == 400
    assert not Run.objects.exists()


def test_it_asks_for_the_rows_of_a_custom_sample(owner_client, ready_dataset):
    response = owner_client.post(
        reverse("dataset_detail", args=[ready_dataset.pk]),
        {"target": "b", "sample": "custom", "time_budget": 60},
    )
    assert response.status_code == 400
    assert b"number of rows" in response.content
