"""The lease on a candidate's training: claimed once, renewed while alive, taken after a lapse."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.leases import LeaseHeld, claimable, lease_renewed
from analysis.models import CandidateResult, Run
from analysis.services import candidate_train
from tests.worker import wait_for

# The renewing thread has a database connection of its own: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(owner, profiled_dataset):
    return Run.objects.create(
        owner=owner, dataset=profiled_dataset, target="b", status=Run.Status.TRAINING
    )


def candidate(run, name: str, **fields) -> CandidateResult:
    return CandidateResult.objects.create(run=run, name=name, label=name, **fields)


def test_it_lets_only_pending_candidates_and_lapsed_leases_be_claimed(run):
    now = timezone.now()
    candidate(run, "linear", status="pending")
    candidate(run, "decision_tree", status="running", lease_expires_at=now - timedelta(seconds=1))
    candidate(run, "random_forest", status="running", lease_expires_at=None)
    candidate(run, "xgboost", status="running", lease_expires_at=now + timedelta(seconds=20))
    candidate(run, "lstm", status="succeeded")

    claimed = CandidateResult.objects.filter(claimable(now)).values_list("name", flat=True)

    assert set(claimed) == {"linear", "decision_tree", "random_forest"}


def test_it_leaves_a_candidate_whose_lease_a_live_worker_holds(run):
    held = candidate(
        run,
        "xgboost",
        status="running",
        attempts=1,
        worker_task_id="first",
        lease_expires_at=timezone.now() + timedelta(seconds=20),
    )

    with pytest.raises(LeaseHeld) as raised:
        candidate_train(run_id=run.pk, name="xgboost", task_id="copy")

    held.refresh_from_db()
    assert (held.status, held.attempts, held.worker_task_id) == ("running", 1, "first")
    assert 0 < raised.value.seconds <= 20


def test_it_fails_a_candidate_whose_last_worker_died_once_its_lease_lapsed(run):
    lost = candidate(
        run,
        "xgboost",
        status="running",
        attempts=2,
        worker_task_id="second",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    candidate_train(run_id=run.pk, name="xgboost", task_id="second")

    lost.refresh_from_db()
    assert lost.status == "failed"
    assert "stopped 2 times without finishing" in lost.error


def claimed(run, settings):
    settings.PROMISE_CANDIDATE_LEASE_SECONDS = 0.3
    started = timezone.now()
    row = candidate(
        run,
        "xgboost",
        status="running",
        worker_task_id="first",
        started_at=started,
        lease_expires_at=started + timedelta(seconds=0.3),
    )
    claim = CandidateResult.objects.filter(pk=row.pk, worker_task_id="first", started_at=started)
    return row, claim


def test_it_renews_the_lease_while_the_training_runs_and_stops_after(run, settings):
    row, claim = claimed(run, settings)

    with lease_renewed(claim) as lease:
        wait_for(
            lambda: claim.get().lease_expires_at > row.lease_expires_at,
            timeout=10,
            what="the lease to be renewed",
        )

    assert not lease.lost.is_set()
    assert "training-lease" not in [thread.name for thread in threading.enumerate()]


def test_it_stops_renewing_a_lease_that_a_later_claim_took(run, settings):
    row, claim = claimed(run, settings)
    later = timezone.now() + timedelta(seconds=1)
    theirs = later + timedelta(seconds=30)

    with lease_renewed(claim) as lease:
        # A copy claimed it after this worker stalled past its lease.
        CandidateResult.objects.filter(pk=row.pk).update(started_at=later, lease_expires_at=theirs)
        wait_for(lease.lost.is_set, timeout=10, what="the renewal to notice the lost claim")

    assert CandidateResult.objects.get(pk=row.pk).lease_expires_at == theirs
