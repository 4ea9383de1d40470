"""Deleting a dataset while one of its runs is training, through the page, on a real worker."""

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Run
from analysis.storage import dataset_path, run_dir
from promise.celery import app
from tests.integration.trained import ten_minute_run
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _workers_idle() -> bool:
    active = app.control.inspect(timeout=1).active() or {}
    return not any(active.values())


def _revoked() -> set[str]:
    revoked = app.control.inspect(timeout=1).revoked() or {}
    return {task_id for ids in revoked.values() for task_id in ids}


def test_it_stops_the_active_run_and_then_removes_the_rows_and_files(
    celery_worker, owner, owner_client, tmp_path
):
    run = ten_minute_run(owner, tmp_path)
    dataset = run.dataset
    wait_for(
        lambda: CandidateResult.objects.filter(run=run, status="running").exists(),
        timeout=60,
        what="a candidate to start training",
    )
    training = set(
        CandidateResult.objects.filter(run=run, status="running").values_list(
            "worker_task_id", flat=True
        )
    )
    folder, source = run_dir(run), dataset_path(dataset)

    response = owner_client.post(reverse("dataset_delete", args=[dataset.pk]))

    assert response.status_code == 302
    assert not Run.objects.filter(pk=run.pk).exists()
    # Cancelled first: the worker processes training it are killed, not left to run on.
    wait_for(lambda: training & _revoked(), timeout=10, what="the run's tasks to be revoked")
    wait_for(_workers_idle, timeout=10, what="the worker to drop the run's tasks")
    assert not folder.exists() and not source.exists()
