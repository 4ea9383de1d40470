"""Confirmation on the whole file through the real views, a real worker, Redis and database."""

import io

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Run
from tests.conftest import churn_frame
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROWS, SAMPLE = 1500, 400


def _confirmed(candidate_ids) -> bool:
    statuses = CandidateResult.objects.filter(pk__in=candidate_ids).values_list(
        "confirm_status", flat=True
    )
    return all(s in ("succeeded", "failed") for s in statuses)


def test_it_confirms_the_best_two_by_itself_and_any_other_on_request(
    celery_worker, owner_client, outsider_client
):
    upload = io.BytesIO(churn_frame(rows=ROWS).to_csv(index=False).encode())
    upload.name = "churn.csv"
    owner_client.post(reverse("dataset_upload"), {"file": upload})
    dataset = Dataset.objects.latest("created_at")
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status in ("ready", "failed"),
        timeout=60,
        what="the profile",
    )
    owner_client.post(
        reverse("dataset_detail", args=[dataset.pk]),
        {"target": "churned", "sample": "custom", "custom_rows": SAMPLE, "time_budget": 30},
    )
    run = Run.objects.get(dataset=dataset)
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=240, what="the run"
    )
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    best = list(run.candidates.filter(rank__in=[1, 2]).order_by("rank"))
    wait_for(lambda: _confirmed([c.pk for c in best]), timeout=180, what="the confirmation")

    unseen = ROWS - run.plan["train_rows"]  # every row has a target
    for candidate in best:
        candidate.refresh_from_db()
        assert candidate.confirm_status == "succeeded", candidate.confirm_error
        assert candidate.full_rows == unseen
        assert 0.5 < candidate.full_metrics[run.metric] <= 1
    assert not run.candidates.filter(rank__gt=2).exclude(confirm_status="").exists()
    page = owner_client.get(
        reverse("run_compare", args=[run.pk]) + f"?first={best[0].name}&second={best[1].name}"
    ).content.decode()
    assert page.count(f"Whole file ({unseen:,} rows)") == 2
    assert page.count(f"Sample holdout ({run.plan['holdout_rows']} rows)") == 2

    third = run.candidates.get(rank=3)
    url = reverse("api_candidate_confirm", args=[third.pk])
    assert outsider_client.post(url).status_code == 404
    assert owner_client.post(url).status_code == 202
    wait_for(lambda: _confirmed([third.pk]), timeout=180, what="the third confirmation")
    api_third = next(
        c
        for c in owner_client.get(reverse("api_run_detail", args=[run.pk])).json()["candidates"]
        if c["id"] == third.pk
    )
    assert (api_third["confirm_status"], api_third["full_rows"]) == ("succeeded", unseen)
    assert Run.objects.get(pk=run.pk).status == "succeeded"
