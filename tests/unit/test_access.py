"""One user never sees another's datasets, runs or exports."""

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(profiled_dataset):
    return profiled_dataset


@pytest.fixture
def run(owner, dataset):
    return Run.objects.create(owner=owner, dataset=dataset, target="b")


@pytest.fixture
def candidate(run):
    return CandidateResult.objects.create(
        run=run, name="linear", label="Linear", status=CandidateResult.Status.SUCCEEDED
    )


def test_it_hides_a_dataset_from_others(outsider_client, dataset):
    assert outsider_client.get(reverse("dataset_detail", args=[dataset.pk])).status_code == 404


def test_it_refuses_to_delete_another_users_dataset(outsider_client, dataset):
    response = outsider_client.post(reverse("dataset_delete", args=[dataset.pk]))
    assert response.status_code == 404
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_it_hides_a_run_from_others(outsider_client, run):
    assert outsider_client.get(reverse("run_detail", args=[run.pk])).status_code == 404


def test_it_refuses_to_cancel_another_users_run(outsider_client, run):
    assert outsider_client.post(reverse("run_cancel", args=[run.pk])).status_code == 404
    assert Run.objects.get(pk=run.pk).status == Run.Status.QUEUED


def test_it_refuses_to_export_another_users_model(outsider_client, candidate):
    assert outsider_client.post(reverse("candidate_export", args=[candidate.pk])).status_code == 404


def test_it_lists_only_the_users_own_datasets(outsider_client, dataset):
    assert b"mine.csv" not in outsider_client.get(reverse("home")).content


def test_it_shows_the_owner_their_dataset(owner_client, dataset):
    assert owner_client.get(reverse("dataset_detail", args=[dataset.pk])).status_code == 200


def test_it_sends_visitors_to_the_login_page(client, dataset):
    response = client.get(reverse("dataset_detail", args=[dataset.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_predictions_from_another_users_model(outsider_client, candidate):
    response = outsider_client.post(
        reverse("api_predict", args=[candidate.pk]),
        {"rows": [{"a": 1}]},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_it_hides_a_run_from_others_in_the_api(outsider_client, run):
    assert outsider_client.get(reverse("api_run_detail", args=[run.pk])).status_code == 404


def test_it_asks_api_visitors_to_authenticate(client, run):
    assert client.get(reverse("api_run_detail", args=[run.pk])).status_code in (401, 403)
