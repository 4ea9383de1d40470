"""The API refuses, naming it, any field it does not know: nothing is dropped silently."""

import io

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_refuses_an_unknown_field_beside_an_uploaded_file(owner_client):
    handle = io.BytesIO(b"a,b\n1,2\n")
    handle.name = "t.csv"

    response = owner_client.post(reverse("api_datasets"), {"file": handle, "delimiter": ";"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"delimiter": ["This field is not known."]}


def test_it_refuses_an_unknown_run_setting(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b", "budget": 30},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "Unknown field: budget." in response.json()["error"]


def test_it_refuses_an_unknown_field_when_opening_an_upload(owner_client):
    response = owner_client.post(
        reverse("api_upload_begin"),
        {"name": "t.csv", "size": 10, "chunk": 1},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "chunk" in response.json()["fields"]


def test_it_refuses_a_body_that_is_not_an_object(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        [1, 2],
        content_type="application/json",
    )

    assert response.status_code == 400
