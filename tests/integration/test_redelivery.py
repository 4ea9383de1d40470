"""A training task delivered again while its first worker is alive, on a real worker."""

import pytest

from analysis.models import CandidateResult, Dataset, Run
from analysis.services import dataset_create_from_path, run_start
from analysis.tasks import train_candidate
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


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


def last_one_training(run: Run) -> CandidateResult | None:
    """The only candidate still training, once every other is done: one of the worker's
    two processes is then free, so a copy sent now runs beside it, not after it."""
    candidates = CandidateResult.objects.filter(run=run)
    if candidates.filter(status="pending").exists():
        return None
    running = list(candidates.filter(status="running"))
    return running[0] if len(running) == 1 else None


def test_it_trains_a_candidate_once_when_its_task_is_delivered_again(owner, ready_dataset):
    run = run_start(owner=owner, dataset=ready_dataset, target="churned", time_budget=60)
    training = wait_for(
        lambda: last_one_training(run), timeout=120, what="the last candidate to train alone"
    )

    # The same message Redis would hand out again after its visibility timeout.
    copy = train_candidate.apply_async((run.pk, training.name))

    wait_for(lambda: copy.state == "RETRY", timeout=30, what="the copy to find the lease held")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=120, what="the run"
    )
    wait_for(lambda: copy.state == "SUCCESS", timeout=60, what="the copy to come back and leave")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    trained = CandidateResult.objects.get(pk=training.pk)
    assert trained.status == "succeeded"
    assert (trained.attempts, trained.worker_task_id, trained.started_at) == (
        1,
        training.worker_task_id,
        training.started_at,
    )
