"""Training one candidate family of a run, claimed by one worker at a time."""

from __future__ import annotations

import logging
import os

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..automl.budget import candidate_time_limit
from ..automl.discovery import train_candidate
from ..automl.errors import UserFacingError
from ..automl.prepare import RunPlan
from ..automl.search import SearchCancelled
from ..failures import record_traceback
from ..leases import LeaseHeld, claimable, lease_expiry, lease_renewed, seconds_held
from ..memory_guard import default_limit_bytes, memory_limit
from ..models import CandidateResult, Run
from ..storage import run_folder, stored_model_dir

log = logging.getLogger(__name__)

# A candidate whose worker died this many times (killed, out of memory) is not tried again.
CANDIDATE_ATTEMPTS = 2


def candidate_train(*, run_id: int, name: str, task_id: str = "", hostname: str = "") -> None:
    """Train one candidate family of a run; a failure marks only this candidate failed.

    `hostname` is the claiming Celery worker's, kept on the candidate."""
    if not run_training(run_id):
        return
    unfinished = CandidateResult.objects.filter(
        run_id=run_id,
        name=name,
        status__in=[CandidateResult.Status.PENDING, CandidateResult.Status.RUNNING],
    )
    # RUNNING too, once its lease has lapsed: a killed worker's task comes back and trains
    # it again; a copy delivered while a live worker renews the lease must not (leases.py).
    now = timezone.now()
    claimed = unfinished.filter(claimable(now), attempts__lt=CANDIDATE_ATTEMPTS).update(
        status=CandidateResult.Status.RUNNING,
        started_at=now,
        worker_task_id=task_id,
        worker_hostname=hostname,
        attempts=F("attempts") + 1,
        lease_expires_at=lease_expiry(now),
    )
    if not claimed:
        if (seconds := seconds_held(unfinished, now)) is not None:
            raise LeaseHeld(seconds)  # the task asks again once the lease would have lapsed
        if unfinished.exists():  # every attempt ended with its worker process gone
            _candidate_failed(
                run_id,
                name,
                f"The worker training this model stopped {CANDIDATE_ATTEMPTS} times without "
                "finishing (killed, or out of memory), so it was not tried again.",
            )
        return
    run = Run.objects.get(pk=run_id)
    if run.finish_requested_at:
        _candidate_failed(run_id, name, "The run was finished before this model's search started.")
        return
    elapsed = (timezone.now() - run.started_at).total_seconds() if run.started_at else 0.0
    time_limit = candidate_time_limit(name, max(run.time_budget - elapsed, 1.0))
    max_bytes = candidate_memory_bytes()

    def out_of_memory(rss: int) -> None:
        _candidate_failed(
            run_id,
            name,
            f"Training used {rss / 1024**3:.1f} GB of memory, more than the "
            f"{max_bytes / 1024**3:.1f} GB a model may use, and was stopped. "
            "Try a smaller sample size, or leave out columns with many categories.",
        )

    claim = CandidateResult.objects.filter(
        run_id=run_id, name=name, worker_task_id=task_id, started_at=now
    )
    try:
        with (
            memory_limit(max_bytes, out_of_memory),
            lease_renewed(claim),
            run_folder(run) as folder,
        ):
            outcome = train_candidate(
                folder,
                RunPlan.from_dict(run.plan),
                name,
                time_limit=time_limit,
                progress=lambda trials, best: CandidateResult.objects.filter(
                    run_id=run_id, name=name
                ).update(trials_done=trials, best_score=best),
                should_stop=lambda: not run_training(run_id),
                should_finish=lambda: finish_requested(run_id),
                interrupts=(SoftTimeLimitExceeded,),
            )
    except SearchCancelled:
        return  # run_cancel already marked this candidate
    except SoftTimeLimitExceeded:
        message = f"Training went past the run's time limit ({run.time_budget} s) and was stopped."
        _candidate_failed(run_id, name, message)
        return
    except Exception as exc:
        log.exception("Training %s in run %s failed", name, run_id)
        record_traceback(run_id=run_id, candidate=name)
        if isinstance(exc, UserFacingError):
            message = str(exc)
        else:
            message = f"Training failed: {type(exc).__name__}: {str(exc)[:300]}"
        _candidate_failed(run_id, name, message)
        return
    CandidateResult.objects.filter(
        run_id=run_id, name=name, status=CandidateResult.Status.RUNNING
    ).update(
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=stored_model_dir(run, folder, outcome.model_dir),
        **outcome_fields(outcome),
    )


def run_training(run_id: int) -> bool:
    """Whether the run is still searching: not ranking, finished, cancelled or deleted."""
    return Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists()


def finish_requested(run_id: int) -> bool:
    """Whether the user asked the run to finish now ("finish now")."""
    return Run.objects.filter(pk=run_id, finish_requested_at__isnull=False).exists()


def outcome_fields(outcome) -> dict:
    """The CandidateResult fields a trained model (discovery.CandidateOutcome) fills."""
    return {
        "params": outcome.params,
        "metrics": outcome.metrics,
        "train_metrics": outcome.train_metrics,
        "cv_mean": outcome.cv_mean,
        "cv_std": outcome.cv_std,
        "cv_scores": outcome.cv_scores,
        "holdout_ci": outcome.holdout_ci,
        "charts": outcome.charts,
        "trials_done": outcome.trials,
        "fit_seconds": outcome.fit_seconds,
        "predict_ms_per_1000": outcome.predict_ms_per_1000,
        "model_bytes": outcome.model_bytes,
        "finished_at": timezone.now(),
    }


def candidate_memory_bytes() -> int:
    if settings.PROMISE_CANDIDATE_MEMORY_MB:
        return settings.PROMISE_CANDIDATE_MEMORY_MB * 1024**2
    return default_limit_bytes(workers=os.cpu_count() or 1)


def _candidate_failed(run_id: int, name: str, message: str) -> None:
    CandidateResult.objects.filter(run_id=run_id, name=name).update(
        status=CandidateResult.Status.FAILED, error=message, finished_at=timezone.now()
    )
