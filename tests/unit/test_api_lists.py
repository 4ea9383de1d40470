"""Lists of the API come a page at a time; runs filter by status and dataset; a filter
that makes no sense is refused by name."""

import pytest
from django.urls import reverse

from analysis.models import Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(owner, profiled_dataset):
    other = Dataset.objects.create(owner=owner, name="other.csv", status=Dataset.Status.READY)
    return [
        Run.objects.create(owner=owner, dataset=profiled_dataset, target="b"),
        Run.objects.create(
            owner=owner, dataset=profiled_dataset, target="b", status=Run.Status.SUCCEEDED
        ),
        Run.objects.create(owner=owner, dataset=other, target="a", status=Run.Status.FAILED),
    ]


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_it_pages_the_runs(owner_client, runs):
    body = owner_client.get(reverse("api_runs"), {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and "page=2" in body["next"]
    second = owner_client.get(body["next"]).json()
    assert [r["id"] for r in second["results"]] == [runs[0].pk]


def test_it_filters_the_runs_by_status(owner_client, runs):
    assert _ids(owner_client.get(reverse("api_runs"), {"status": "failed"})) == [runs[2].pk]


def test_it_filters_the_runs_by_dataset(owner_client, runs, profiled_dataset):
    found = _ids(owner_client.get(reverse("api_runs"), {"dataset": profiled_dataset.pk}))
    assert sorted(found) == sorted([runs[0].pk, runs[1].pk])


def test_it_combines_the_filters(owner_client, runs, profiled_dataset):
    query = {"dataset": profiled_dataset.pk, "status": "succeeded"}
    assert _ids(owner_client.get(reverse("api_runs"), query)) == [runs[1].pk]


def test_it_refuses_an_unknown_status_by_name(owner_client, runs):
    response = owner_client.get(reverse("api_runs"), {"status": "done"})
    assert response.status_code == 400
    assert "“done” is not a status" in response.json()["fields"]["status"][0]


def test_it_refuses_a_dataset_that_is_not_a_number(owner_client, runs):
    response = owner_client.get(reverse("api_runs"), {"dataset": "1 OR 1=1"})
    assert response.status_code == 400 and "dataset" in response.json()["fields"]


def test_it_lists_no_other_users_runs(outsider_client, runs):
    assert _ids(outsider_client.get(reverse("api_runs"))) == []


def test_it_filters_the_datasets_by_status(owner_client, runs, profiled_dataset):
    Dataset.objects.create(owner=profiled_dataset.owner, name="f.csv", status="failed")
    found = _ids(owner_client.get(reverse("api_datasets"), {"status": "ready"}))
    assert len(found) == 2 and all(Dataset.objects.get(pk=i).status == "ready" for i in found)


def test_it_answers_a_page_past_the_end_with_a_sentence(owner_client, runs):
    response = owner_client.get(reverse("api_runs"), {"page": 9})
    assert response.status_code == 404
    assert response.json()["error"].startswith("There is no page “9” of this list")
