"""Renaming a dataset, from its page and the API: the name changes, the file stays."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_page_renames_a_dataset(owner_client, profiled_dataset):
    stored = profiled_dataset.file.name

    page = owner_client.post(
        reverse("dataset_rename", args=[profiled_dataset.pk]),
        {"name": "  churn, March  "},
        follow=True,
    ).content.decode()

    profiled_dataset.refresh_from_db()
    assert profiled_dataset.name == "churn, March" and profiled_dataset.file.name == stored
    assert "Renamed to “churn, March”." in page and "<h1>churn, March</h1>" in page


def test_the_page_refuses_an_empty_name_with_a_sentence(owner_client, profiled_dataset):
    before = profiled_dataset.name
    page = owner_client.post(
        reverse("dataset_rename", args=[profiled_dataset.pk]), {"name": " "}, follow=True
    ).content.decode()

    assert "Give the dataset a name: it cannot be empty." in page
    profiled_dataset.refresh_from_db()
    assert profiled_dataset.name == before


def test_the_api_renames_a_dataset(owner_client, profiled_dataset):
    response = owner_client.patch(
        reverse("api_dataset_detail", args=[profiled_dataset.pk]),
        {"name": "train (copy)"},
        content_type="application/json",
    )

    assert response.status_code == 200 and response.json()["name"] == "train (copy)"


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ({"name": ""}, "cannot be empty"),
        ({}, "cannot be empty"),
        ({"name": "x" * 256}, "at most 255 characters"),
        ({"name": "a\nb"}, "cannot hold line breaks"),
        ({"name": 5}, "as text"),
        ({"name": "ok", "owner": 2}, "Unknown field: owner"),
    ],
)
def test_the_api_refuses_a_bad_name_with_a_sentence(owner_client, profiled_dataset, body, sentence):
    before = profiled_dataset.name

    response = owner_client.patch(
        reverse("api_dataset_detail", args=[profiled_dataset.pk]),
        body,
        content_type="application/json",
    )

    assert response.status_code == 400 and sentence in response.json()["error"]
    profiled_dataset.refresh_from_db()
    assert profiled_dataset.name == before


def test_nobody_renames_another_users_dataset(outsider_client, profiled_dataset):
    before = profiled_dataset.name
    page = outsider_client.post(
        reverse("dataset_rename", args=[profiled_dataset.pk]), {"name": "mine"}
    )
    api = outsider_client.patch(
        reverse("api_dataset_detail", args=[profiled_dataset.pk]),
        {"name": "mine"},
        content_type="application/json",
    )

    assert page.status_code == api.status_code == 404
    profiled_dataset.refresh_from_db()
    assert profiled_dataset.name == before
