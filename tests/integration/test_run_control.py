"""Cancel, retry and lost workers, on a real worker."""

import os
import signal
import time

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Run
from analysis.services import dataset_create_from_path, run_start
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready_dataset(celery_worker, owner, tmp_path):
    from tests.conftest import churn_frame

    path = tmp_path / "big.csv"
    churn_frame(rows=20_000).to_csv(path, index=False)
    dataset = dataset_create_from_path(owner=owner, path=path)
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=60, what="profile"
    )
    return Dataset.objects.get(pk=dataset.pk)


def test_it_stops_all_candidate_work_within_five_seconds(owner, owner_client, ready_dataset):
    run = run_start(owner=owner, dataset=ready_dataset, target="churned", time_budget=600)
    wait_for(
        lambda: CandidateResult.objects.filter(run=run, status="running").exists(),
        timeout=60,
        what="a candidate to start training",
    )
    cancelled_at = time.monotonic()
    owner_client.post(reverse("run_cancel", args=[run.pk]))
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    from promise.celery import app

    def workers_idle():
        active = app.control.inspect(timeout=1).active() or {}
        return not any(active.values())

    wait_for(workers_idle, timeout=10, what="the worker to drop the run's tasks")
    assert time.monotonic() - cancelled_at < 5 + 2  # 2 s: the inspect round trip itself
    # Candidates that finished before the click keep their result; nothing else goes on.
    statuses = set(CandidateResult.objects.filter(run=run).values_list("status", flat=True))
    assert "cancelled" in statuses and statuses <= {"cancelled", "succeeded"}


def test_it_retries_a_failed_run_with_the_same_settings(owner, owner_client, ready_dataset):
    failed = Run.objects.create(
        owner=owner, dataset=ready_dataset, target="churned", status="failed", sample_size=123
    )
    response = owner_client.post(reverse("run_retry", args=[failed.pk]))
    retried = Run.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("run_detail", args=[retried.pk])
    assert (retried.target, retried.sample_size) == ("churned", 123)
    wait_for(
        lambda: Run.objects.get(pk=retried.pk).status not in Run.ACTIVE,
        timeout=240,
        what="the retried run",
    )
    retried_run = Run.objects.get(pk=retried.pk)
    assert retried_run.status == "succeeded", retried_run.error


def _worker_pid(task_id: str) -> int | None:
    from promise.celery import app

    for tasks in (app.control.inspect(timeout=1).active() or {}).values():
        for task in tasks:
            if task["id"] == task_id:
                return task["worker_pid"]
    return None


def test_a_candidate_whose_worker_keeps_dying_fails_alone_and_the_run_goes_on(owner, ready_dataset):
    run = run_start(owner=owner, dataset=ready_dataset, target="churned", time_budget=40)
    forest = CandidateResult.objects.filter(run=run, name="random_forest")
    for attempt in (1, 2):
        # The process training the forest dies, as the kernel's OOM killer would end it.
        training = wait_for(
            lambda attempt=attempt: (
                (c := forest.get()).status == "running"
                and c.attempts == attempt
                and _worker_pid(c.worker_task_id)
            ),
            timeout=120,
            what=f"attempt {attempt} at the random forest",
        )
        os.kill(training, signal.SIGKILL)

    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=180, what="the run"
    )
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert forest.get().status == "failed"
    assert "stopped 2 times without finishing" in forest.get().error
    others = CandidateResult.objects.filter(run=run).exclude(name="random_forest")
    assert set(others.values_list("status", flat=True)) == {"succeeded"}
    assert any("Random Forest" in sentence for sentence in run.insights)
