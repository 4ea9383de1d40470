"""A run's life: started, sampled, ranked; finished early, failed, cancelled, retried.

Training each candidate is in training.py, the second round in second_round.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import audit, deployments, limits, workflow
from ..automl.candidates import CANDIDATES
from ..automl.discovery import load_search
from ..automl.errors import UserFacingError
from ..automl.ingest import IngestOptions
from ..automl.insights import RankedCandidate, run_insights
from ..automl.prepare import prepare_run
from ..automl.profile import DatasetProfile
from ..automl.ranking import Contender, rank_candidates
from ..automl.sampling import STRATEGIES, TIME_BASED
from ..automl.second_round import ended_early_sentence
from ..failures import record_traceback
from ..models import CandidateResult, Dataset, Run
from ..refusals import UNEXPECTED_ERROR, ServiceError
from ..storage import dataset_file, run_folder
from .confirmation import run_confirm_best
from .files import remove_files, stored_files

log = logging.getLogger(__name__)


@transaction.atomic
def run_start(
    *,
    owner,
    dataset: Dataset,
    target: str,
    task: str = "",
    sample_size: int | None = None,
    time_budget: int | None = None,
    excluded_columns: list[str] | None = None,
    sample_strategy: str = "random",
    time_column: str = "",
    metric: str = "",
    seed: int = 0,
) -> Run:
    """Create a run on a profiled dataset and queue its pipeline.

    `metric` ranks the models instead of the task's usual one (R² or accuracy); it is
    checked against the task once the task is known, when the run is prepared.
    """
    if dataset.status != Dataset.Status.READY:
        raise ServiceError("The dataset is not ready: wait until its profile is done.")
    columns = [c["name"] for c in dataset.profile["columns"]]
    if target not in columns:
        raise ServiceError(f"The target {target!r} is not a column of this dataset.")
    excluded = [c for c in (excluded_columns or []) if c != target]
    unknown = [c for c in excluded if c not in columns]
    if unknown:
        raise ServiceError(f"These columns are not in the dataset: {', '.join(unknown)}.")
    if sample_size is not None and sample_size < 1:
        raise ServiceError("The sample size must be a positive number of rows.")
    if sample_strategy not in STRATEGIES:
        raise ServiceError(f"Choose a sampling strategy among {', '.join(STRATEGIES)}.")
    if time_column and time_column not in columns:
        raise ServiceError(f"The time column {time_column!r} is not a column of this dataset.")
    time_budget = time_budget or settings.PROMISE_DEFAULT_TIME_BUDGET
    limits.lock_user(owner.pk)
    limits.check_run(owner.pk, time_budget)
    run = Run.objects.create(
        owner=owner,
        dataset=dataset,
        target=target,
        task=task,
        excluded_columns=excluded,
        sample_size=sample_size,
        sample_strategy=sample_strategy,
        time_column=time_column,
        metric=metric,
        seed=seed,
        time_budget=time_budget,
    )
    audit.record(audit.AuditEntry.Action.RUN, user=owner, target=run)
    CandidateResult.objects.bulk_create(
        CandidateResult(run=run, name=c.name, label=c.label, position=i)
        for i, c in enumerate(CANDIDATES)
    )
    transaction.on_commit(lambda: workflow.send_run(run.pk, time_budget=run.time_budget))
    return run


def run_prepare(*, run_id: int, task_id: str = "") -> None:
    """Sample the data and split off the holdout; the candidates start after this."""
    # SAMPLING too: a worker that died mid-step gets its task back, and the step is
    # deterministic, so doing it again rewrites the same files.
    claimed = Run.objects.filter(
        pk=run_id, status__in=[Run.Status.QUEUED, Run.Status.SAMPLING]
    ).update(status=Run.Status.SAMPLING, started_at=timezone.now(), worker_task_id=task_id)
    if not claimed:
        return
    run = Run.objects.select_related("dataset").get(pk=run_id)
    try:
        with dataset_file(run.dataset) as source, run_folder(run) as folder:
            plan = _prepare(run, source, folder)
    except UserFacingError as exc:
        run_fail(run_id=run_id, message=str(exc))
        return
    except Exception:
        log.exception("Preparing run %s failed", run_id)
        record_traceback(run_id=run_id)
        run_fail(run_id=run_id, message=UNEXPECTED_ERROR.format(doing="sampling the data"))
        return
    Run.objects.filter(pk=run_id, status=Run.Status.SAMPLING).update(
        status=Run.Status.TRAINING,
        plan=plan.to_dict(),
        task=plan.task,
        metric=plan.metric,
        sample_rows=plan.sample.sample_rows,
        total_rows=plan.sample.total_rows,
    )


def _prepare(run: Run, source: Path, folder: Path):
    return prepare_run(
        source,
        folder,
        profile=DatasetProfile.from_dict(run.dataset.profile),
        target=run.target,
        task=run.task or None,
        excluded=tuple(run.excluded_columns),
        max_rows=run.sample_size,
        seed=run.seed,
        strategy=run.sample_strategy,
        time_column=run.time_column or None,
        options=IngestOptions(**run.dataset.read_options),
        metric=run.metric or None,
    )


def _second_round_with_ending(run: Run, done: dict) -> dict | None:
    """The run's second-round record, with the sentence for a run that ends early after
    its second round: why each search that has not converged was left
    (automl/second_round.ended_early_sentence)."""
    record = run.second_round
    if not record or record.get("sentence") or not record.get("seconds"):
        return record
    try:
        with run_folder(run) as folder:
            searches = {n: load_search(folder / "candidates" / n) for n in done}
    except (OSError, ValueError, TypeError, KeyError):
        return record  # trained before searches were kept
    left = run.time_budget - (timezone.now() - run.started_at).total_seconds()
    sentence = ended_early_sentence(
        searches,
        continued=list(record["seconds"]),
        seconds_left=left,
        budget=run.time_budget,
        labels={name: candidate.label for name, candidate in done.items()},
        out_of_reach=record.get("out_of_reach", []),
        too_slow=record.get("too_slow", []),
    )
    return {**record, "sentence": sentence}


def run_rank(*, run_id: int) -> None:
    """Rank the trained candidates by cross-validation and write the recommendation.

    The holdout scores are reported beside, never used to choose (ranking.py).
    """
    claimed = Run.objects.filter(
        pk=run_id, status__in=[Run.Status.TRAINING, Run.Status.RANKING]
    ).update(status=Run.Status.RANKING)
    if not claimed:
        return
    run = Run.objects.get(pk=run_id)
    done = {c.name: c for c in run.candidates.filter(status=CandidateResult.Status.SUCCEEDED)}
    if not done:
        failures = "; ".join(f"{c.label}: {c.error}" for c in run.candidates.all() if c.error)
        run_fail(run_id=run_id, message=f"No candidate could be trained. {failures}".strip())
        return
    standings = rank_candidates(
        [
            Contender(name=n, cv_scores=c.cv_scores, search_rows=c.charts.get("search_rows"))
            for n, c in done.items()
        ],
        run.metric,
        simplicity=[c.name for c in CANDIDATES],
        time_ordered=run.sample_strategy == TIME_BASED,
    )
    with transaction.atomic():
        for standing in standings:
            CandidateResult.objects.filter(pk=done[standing.name].pk).update(
                rank=standing.rank, tied_with_first=standing.tied_with_first
            )
        sentences = run_insights(
            [
                RankedCandidate(
                    label=done[s.name].label,
                    metrics=done[s.name].metrics,
                    cv_mean=s.cv_mean,
                    cv_std=s.cv_std,
                    train_metrics=done[s.name].train_metrics,
                    folds=s.folds,
                    holdout_ci=done[s.name].holdout_ci,
                    tied_with_first=s.tied_with_first,
                    p_value=s.p_value,
                )
                for s in standings
            ],
            metric=run.metric,
            sample_rows=run.sample_rows,
            total_rows=run.total_rows,
            failed=[c.label for c in run.candidates.filter(status=CandidateResult.Status.FAILED)],
            dropped=run.plan["features"]["dropped"],
            findings=run.plan.get("findings", []),
            target_encoded=run.plan["features"].get("high_cardinality", []),
            finished_early=run.finish_requested_at is not None,
        )
        Run.objects.filter(pk=run_id).update(
            status=Run.Status.SUCCEEDED,
            recommended=standings[0].name,
            insights=sentences,
            finished_at=timezone.now(),
            second_round=_second_round_with_ending(run, done),
        )
        transaction.on_commit(lambda: run_confirm_best(run_id=run_id))


def run_finish(*, run: Run) -> bool:
    """Finish now: end the searches and rank what they have found so far.

    Each running candidate keeps its best trial, refitted on all training rows (or is
    marked failed when it had none); candidates not started yet are marked failed; the
    chord then ranks the others as usual. False when the run is not training any more.
    """
    return bool(
        Run.objects.filter(
            pk=run.pk,
            status=Run.Status.TRAINING,
            finish_requested_at__isnull=True,
        ).update(finish_requested_at=timezone.now())
    )


def run_fail(*, run_id: int, message: str) -> None:
    Run.objects.filter(pk=run_id, status__in=Run.ACTIVE).update(
        status=Run.Status.FAILED, error=message, finished_at=timezone.now()
    )
    CandidateResult.objects.filter(
        run_id=run_id,
        status__in=[CandidateResult.Status.PENDING, CandidateResult.Status.RUNNING],
    ).update(status=CandidateResult.Status.CANCELLED)


@transaction.atomic
def run_cancel(*, run: Run) -> bool:
    """Stop a run now: no candidate starts after this, and running work is killed.

    The worker processes busy with this run are terminated (their tasks come back
    from the broker and end at once, since the run is no longer active).
    """
    cancelled = Run.objects.filter(pk=run.pk, status__in=Run.ACTIVE).update(
        status=Run.Status.CANCELLED, finished_at=timezone.now()
    )
    if not cancelled:
        return False
    audit.record(audit.AuditEntry.Action.CANCEL, user=run.owner, target=run)
    busy = CandidateResult.objects.filter(run_id=run.pk).filter(
        # A trained candidate's search may be running again, in the second round.
        Q(status=CandidateResult.Status.RUNNING)
        | Q(second_round=CandidateResult.SecondRound.RUNNING)
    )
    task_ids = [t for t in busy.values_list("worker_task_id", flat=True) if t]
    if run.status == Run.Status.SAMPLING and run.worker_task_id:
        task_ids.append(run.worker_task_id)
    CandidateResult.objects.filter(
        run_id=run.pk,
        status__in=[CandidateResult.Status.PENDING, CandidateResult.Status.RUNNING],
    ).update(status=CandidateResult.Status.CANCELLED, finished_at=timezone.now())
    if task_ids:
        transaction.on_commit(lambda: workflow.terminate(task_ids))
    return True


def run_retry(*, run: Run) -> Run:
    """Start a new run with the same settings as a failed or cancelled one."""
    if run.is_active or run.status == Run.Status.SUCCEEDED:
        raise ServiceError("Only a failed or cancelled run can be retried.")
    return run_start(
        owner=run.owner,
        dataset=run.dataset,
        target=run.target,
        task=run.task,
        sample_size=run.sample_size,
        time_budget=run.time_budget,
        excluded_columns=run.excluded_columns,
        sample_strategy=run.sample_strategy,
        time_column=run.time_column,
        metric=run.metric,
        seed=run.seed,
    )


@transaction.atomic
def run_delete(*, run: Run) -> None:
    """Delete a run with its candidates, its folder (models, sample, searches) and its
    exports' zips; a run still going is cancelled first. The files go once the rows are
    gone (on commit), so a failure on the way leaves the run whole."""
    if run.is_active:
        run_cancel(run=run)
    stored = stored_files(run=run)
    run_id = run.pk
    deployments.forget_numbers_of_runs([run_id])
    audit.record(audit.AuditEntry.Action.DELETE, user=run.owner, target=run)
    run.delete()
    transaction.on_commit(lambda: remove_files([run_id], None, stored))
