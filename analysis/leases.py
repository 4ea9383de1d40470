"""The lease on a candidate's training: proof that a live worker is on it.

With acks_late, a training task can be delivered twice while its first worker is still
busy: Redis redelivers a message not acknowledged within its visibility timeout, and
anyone can send a copy by hand. A claim on status alone cannot tell that copy from the
one a killed worker gave back (reject_on_worker_lost), which must train again. The lease
tells them apart: the process training a candidate moves `lease_expires_at` forward
every third of PROMISE_CANDIDATE_LEASE_SECONDS from a thread, so it stays in the future
while that process lives. A copy that finds it in the future leaves and comes back when
it would have lapsed; a killed process stops renewing, its lease lapses, and the copy
that comes back then trains the candidate (or fails it, after its last attempt).

The claim's `started_at` is its token: a claim made after a lapse sets a new one, so a
worker that stalled past its lease stops renewing the candidate it no longer holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import CandidateResult

log = logging.getLogger(__name__)


class LeaseHeld(Exception):  # noqa: N818 - the name says what happened
    """A live worker is training the candidate; ask again in `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(f"another worker holds the lease for {seconds:.0f} s more")
        self.seconds = seconds

    def __reduce__(self):
        # Rebuilt from `seconds`, not the message: Celery pickles the exception behind a
        # retry from the pool process to the worker, and unpickling it must not raise.
        return type(self), (self.seconds,)


def lease_expiry(now: datetime) -> datetime:
    """When a lease taken or renewed at `now` lapses."""
    return now + timedelta(seconds=settings.PROMISE_CANDIDATE_LEASE_SECONDS)


def claimable(now: datetime) -> Q:
    """Candidates no live worker is training: pending, or running under a lapsed lease."""
    lapsed = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    return Q(status=CandidateResult.Status.PENDING) | (
        Q(status=CandidateResult.Status.RUNNING) & lapsed
    )


def seconds_held(candidates: QuerySet, now: datetime) -> float | None:
    """Seconds until the live lease on one of `candidates` lapses; None when none is held."""
    expires = (
        candidates.filter(status=CandidateResult.Status.RUNNING, lease_expires_at__gt=now)
        .values_list("lease_expires_at", flat=True)
        .first()
    )
    return None if expires is None else (expires - now).total_seconds()


class Lease:
    """A claim being renewed; `lost` is set once the claim no longer holds its candidate."""

    def __init__(self) -> None:
        self.lost = threading.Event()


@contextmanager
def lease_renewed(claim: QuerySet) -> Iterator[Lease]:
    """Renew the lease of `claim` (the claimed candidate, by its task id and `started_at`)
    while the block runs. Renewing stops at the end of the block, or once the candidate is
    no longer running under this claim (finished, cancelled, or claimed again after a
    lapse), and then `lost` is set."""
    lease = Lease()
    done = threading.Event()
    every = settings.PROMISE_CANDIDATE_LEASE_SECONDS / 3

    def renew() -> None:
        try:
            while not done.wait(every):
                running = claim.filter(status=CandidateResult.Status.RUNNING)
                if not running.update(lease_expires_at=lease_expiry(timezone.now())):
                    lease.lost.set()
                    return
        except Exception:
            # A renewal that fails lets the lease lapse: at worst a redelivered copy
            # trains the candidate again; it is never left without a worker.
            log.exception("Renewing the training lease failed")
        finally:
            connections.close_all()  # only this thread's own connections

    renewer = threading.Thread(target=renew, name="training-lease", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        done.set()
        renewer.join()
