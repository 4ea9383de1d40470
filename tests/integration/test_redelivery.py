"""A training task delivered again while its first worker is alive, on a real worker."""

import os

import pytest
from django.db import connection

from analysis.models import CandidateResult, Dataset, Run
from analysis.services import dataset_create_from_path, run_start
from analysis.tasks import train_candidate
from tests.worker import wait_for
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

COPIES = "redelivered-copies"


@pytest.fixture
def ready_dataset(celery_worker, owner, tmp_path):
    from tests.conftest import churn_frame

    path = tmp_path / "churn.csv"
    churn_frame(rows=20_000).to_csv(path, index=False)
    dataset = dataset_create_from_path(owner=owner, path=path)
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=60, what="profile"
    )
    return Dataset.objects.get(pk=dataset.pk)


@pytest.fixture
def copy_worker(celery_worker, tmp_path):
    """A second worker, idle, on a queue of its own: the copy runs the moment it is sent,
    beside the original, whatever the session's worker is busy with."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PROMISE_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
    }
    worker = WorkerProcess(
        f"copies-{os.getpid()}@%h",
        env=env,
        log_path=tmp_path / "copies.log",
        queues=[COPIES],
        concurrency=1,
    )
    try:
        yield worker.start()
    finally:
        worker.stop()


def forest_training(run: Run) -> CandidateResult | None:
    """The random forest while its first worker trains it (a search of several seconds)."""
    return CandidateResult.objects.filter(run=run, name="random_forest", status="running").first()


def test_it_trains_a_candidate_once_when_its_task_is_delivered_again(
    owner, ready_dataset, copy_worker
):
    run = run_start(owner=owner, dataset=ready_dataset, target="churned", time_budget=60)
    training = wait_for(lambda: forest_training(run), timeout=120, what="the forest to train")

    # The same message Redis would hand out again after its visibility timeout.
    copy = train_candidate.apply_async((run.pk, training.name), queue=COPIES)

    wait_for(lambda: copy.state == "RETRY", timeout=30, what="the copy to find the lease held")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=120, what="the run"
    )
    wait_for(lambda: copy.state == "SUCCESS", timeout=60, what="the copy to come back and leave")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    trained = CandidateResult.objects.get(pk=training.pk)
    assert trained.status == "succeeded"
    # Claimed once, by the first delivery (a second round may later extend it under
    # another task id, but never under the copy's).
    assert (trained.attempts, trained.started_at) == (1, training.started_at)
    assert trained.worker_task_id != copy.id
