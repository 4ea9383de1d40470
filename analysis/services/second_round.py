"""The second round: the time the first round left goes to searches that can still improve."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from .. import workflow
from ..automl.discovery import load_search
from ..automl.extension import adopt_extension, discard_extension, extend_candidate
from ..automl.metrics import higher_is_better
from ..automl.prepare import RunPlan
from ..automl.search import SearchCancelled
from ..automl.second_round import ROUND_END, FirstRound, plan_second_round
from ..memory_guard import memory_limit
from ..models import CandidateResult, Run
from ..storage import run_folder
from .runs import run_rank
from .training import candidate_memory_bytes, finish_requested, outcome_fields, run_training

log = logging.getLogger(__name__)

# Worker processes the training queue is planned for (as candidate_time_limit's).
TRAINING_WORKERS = 2


def run_second_round(*, run_id: int) -> None:
    """Once every first-round search has ended: continue those that can still improve
    in the time left (automl/second_round.py), then rank; rank at once when none can.

    Decided once and stored on the run; a copy of this step (a lost worker) sends the
    continued candidates that have not started yet again, and their own claims make
    that safe.
    """
    if not run_training(run_id):
        return
    with transaction.atomic():
        run = Run.objects.get(pk=run_id)
        if run.second_round is None:
            decided = _second_round_plan(run)
            if Run.objects.filter(pk=run_id, second_round__isnull=True).update(
                second_round=decided
            ):
                CandidateResult.objects.filter(
                    run_id=run_id,
                    name__in=list(decided["seconds"]),
                    status=CandidateResult.Status.SUCCEEDED,
                ).update(second_round=CandidateResult.SecondRound.QUEUED)
            run.refresh_from_db()
        queued = list(
            CandidateResult.objects.filter(
                run_id=run_id, second_round=CandidateResult.SecondRound.QUEUED
            ).values_list("name", flat=True)
        )
        planned = run.second_round.get("order") or list(run.second_round["seconds"])
        names = [n for n in planned if n in queued]
        if names:
            transaction.on_commit(
                lambda: workflow.send_second_round(run_id, names, time_budget=run.time_budget)
            )
    if not names:
        run_rank(run_id=run_id)


def _second_round_plan(run: Run) -> dict:
    ends_at = run.started_at + timedelta(seconds=run.time_budget * ROUND_END)
    left = max(0.0, (ends_at - timezone.now()).total_seconds())
    if run.finish_requested_at:
        left = 0.0  # "finish now": the user is waiting for the ranking
    first = []
    # An empty metric is the task's primary one (R² or accuracy), better higher.
    maximize = higher_is_better(run.metric)
    for candidate in run.candidates.filter(status=CandidateResult.Status.SUCCEEDED):
        try:
            with run_folder(run) as folder:
                search = load_search(folder / "candidates" / candidate.name)
        except (OSError, ValueError, TypeError, KeyError):
            continue  # trained before searches were kept: it is not continued
        first.append(
            FirstRound.of(
                candidate.name,
                candidate.label,
                search,
                refit_seconds=candidate.fit_seconds or 0,
                maximize=maximize,
            )
        )
    plan = plan_second_round(
        first, seconds_left=left, budget=run.time_budget, workers=TRAINING_WORKERS
    )
    return {**plan.to_dict(), "ends_at": ends_at.isoformat()}


def candidate_extend(*, run_id: int, name: str, task_id: str = "") -> None:
    """Continue one candidate's search in the second round (extension.extend_candidate).

    Its first-round result stays unless the CV score improves; then the new model, its
    scores and charts replace it. Whatever goes wrong here (a lost worker, memory, the
    clock) stops only the second round: the candidate keeps the model it has.
    """
    if not run_training(run_id):
        return
    SecondRound = CandidateResult.SecondRound
    candidate = CandidateResult.objects.filter(
        run_id=run_id, name=name, status=CandidateResult.Status.SUCCEEDED
    )
    claimed = candidate.filter(second_round=SecondRound.QUEUED).update(
        second_round=SecondRound.RUNNING, worker_task_id=task_id
    )
    run = Run.objects.get(pk=run_id)
    if not claimed:
        # A copy of the task comes back when its worker died (acks_late): it stops there,
        # or finishes putting the new model in place once the database says so.
        if candidate.filter(second_round=SecondRound.RUNNING).update(
            second_round=SecondRound.STOPPED
        ):
            with run_folder(run) as folder:
                discard_extension(folder, name)
        elif candidate.filter(second_round=SecondRound.IMPROVED).exists():
            with run_folder(run) as folder:
                adopt_extension(folder, name)
        return
    ends_at = datetime.fromisoformat(run.second_round["ends_at"])
    time_limit = min(run.second_round["seconds"][name], (ends_at - timezone.now()).total_seconds())
    before = candidate.get()
    running = candidate.filter(second_round=SecondRound.RUNNING)
    if time_limit < 1 or run.finish_requested_at:
        running.update(second_round=SecondRound.STOPPED)
        return
    max_bytes = candidate_memory_bytes()
    try:
        stopped = lambda rss: running.update(second_round=SecondRound.STOPPED)  # noqa: E731
        with memory_limit(max_bytes, stopped), run_folder(run) as folder:
            extension = extend_candidate(
                folder,
                RunPlan.from_dict(run.plan),
                name,
                time_limit=time_limit,
                progress=lambda trials, best: running.update(trials_done=trials, best_score=best),
                should_stop=lambda: not run_training(run_id),
                should_finish=lambda: finish_requested(run_id),
                interrupts=(SoftTimeLimitExceeded,),
            )
    except SearchCancelled:
        return
    except Exception:  # SoftTimeLimitExceeded too
        log.exception("The second round of %s in run %s failed", name, run_id)
        running.update(second_round=SecondRound.STOPPED)
        with run_folder(run) as folder:
            discard_extension(folder, name)
        return
    outcome = extension.outcome
    if outcome is None:
        running.update(
            second_round=SecondRound.KEPT,
            trials_done=extension.search.trials,
            charts={**before.charts, "search_history": extension.search.chart_history()},
            finished_at=timezone.now(),
        )
        return
    improved = running.update(
        second_round=SecondRound.IMPROVED, best_score=outcome.cv_mean, **outcome_fields(outcome)
    )
    with run_folder(run) as folder:
        if improved:
            adopt_extension(folder, name)
        else:  # a copy of this task stopped it meanwhile: the first round's model stays
            discard_extension(folder, name)
