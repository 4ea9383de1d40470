"""The use cases of PROMISE. Views, the API, the admin, commands and tasks all call these."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .automl.candidates import CANDIDATES
from .automl.confirm import confirm_candidates
from .automl.discovery import (
    RunPlan,
    adopt_extension,
    discard_extension,
    extend_candidate,
    load_search,
    prepare_run,
    train_candidate,
)
from .automl.errors import UserFacingError
from .automl.ingest import IngestOptions, remove_normalized
from .automl.insights import RankedCandidate, run_insights
from .automl.profile import DatasetProfile, profile_table
from .automl.ranking import Contender, rank_candidates
from .automl.sampling import STRATEGIES, TIME_BASED
from .automl.search import SearchCancelled, candidate_time_limit
from .automl.second_round import ROUND_END, FirstRound, plan_second_round
from .leases import LeaseHeld, claimable, lease_expiry, lease_renewed, seconds_held
from .memory_guard import default_limit_bytes, memory_limit
from .models import CandidateResult, Dataset, Export, Run
from .storage import dataset_path, run_dir

log = logging.getLogger(__name__)

UNEXPECTED_ERROR = (
    "Something went wrong on our side while {doing}; the team can see the details. "
    "Your data is kept: try again, and tell us if it happens again."
)


# A candidate whose worker died this many times (killed, out of memory) is not tried again.
CANDIDATE_ATTEMPTS = 2


class ServiceError(Exception):
    """A request the service refuses, with a sentence to show the user."""


# Datasets


def dataset_upload(*, owner, uploaded_file: UploadedFile) -> Dataset:
    """Store an upload (copied in chunks, never read whole) and queue its profiling."""
    _check_upload_size(uploaded_file.size)
    name = Path(uploaded_file.name).name[:255] or "upload.csv"
    with transaction.atomic():
        dataset = Dataset.objects.create(owner=owner, name=name, size_bytes=uploaded_file.size)
        dataset.file.save(name, File(uploaded_file), save=True)
        transaction.on_commit(lambda: _enqueue_profile(dataset.pk))
    return dataset


def _check_upload_size(size: int) -> None:
    if size == 0:
        raise ServiceError("The file is empty: choose a table with a header row and data rows.")
    if size > settings.PROMISE_MAX_UPLOAD_BYTES:
        limit_gb = settings.PROMISE_MAX_UPLOAD_BYTES / 1024**3
        raise ServiceError(f"The file is larger than the {limit_gb:g} GB limit.")


def dataset_create_from_path(*, owner, path: Path, name: str | None = None) -> Dataset:
    """Store a file already on the server's disk (example datasets, the CLI) like an upload."""
    with path.open("rb") as handle:
        upload = File(handle, name=name or path.name)
        upload.size = path.stat().st_size
        return dataset_upload(owner=owner, uploaded_file=upload)


def _enqueue_profile(dataset_id: int) -> None:
    from .tasks import profile_dataset

    profile_dataset.delay(dataset_id)


def dataset_profile(*, dataset_id: int) -> None:
    """Profile the dataset's file and store the profile and the file's SHA-256, or the
    reason it cannot be read."""
    from .automl.fingerprint import file_sha256

    claimed = Dataset.objects.filter(
        pk=dataset_id, status__in=[Dataset.Status.UPLOADED, Dataset.Status.PROFILING]
    ).update(status=Dataset.Status.PROFILING, error="")
    if not claimed:
        return
    dataset = Dataset.objects.get(pk=dataset_id)
    try:
        profile = profile_table(
            dataset_path(dataset), options=IngestOptions(**dataset.read_options)
        )
        # The stored file never changes, so a re-read with other options keeps its hash.
        sha256 = dataset.sha256 or file_sha256(dataset_path(dataset))
    except UserFacingError as exc:
        _dataset_failed(dataset_id, str(exc))
        return
    except Exception:
        log.exception("Profiling dataset %s failed", dataset_id)
        _dataset_failed(dataset_id, UNEXPECTED_ERROR.format(doing="reading the file"))
        return
    Dataset.objects.filter(pk=dataset_id).update(
        status=Dataset.Status.READY,
        profile=profile.to_dict(),
        row_count=profile.rows,
        column_count=len(profile.columns),
        sha256=sha256,
    )


def _dataset_failed(dataset_id: int, message: str) -> None:
    Dataset.objects.filter(pk=dataset_id).update(status=Dataset.Status.FAILED, error=message)


@transaction.atomic
def dataset_reprofile(*, dataset: Dataset, options: dict) -> Dataset:
    """Read the stored file again with the user's overrides (delimiter, encoding, …)."""
    if dataset.status == Dataset.Status.PROFILING:
        raise ServiceError("The file is being read right now; wait for the result first.")
    try:
        IngestOptions(**options)
    except TypeError as exc:
        raise ServiceError("Those reading options are not understood.") from exc
    Dataset.objects.filter(pk=dataset.pk).update(
        read_options=options, status=Dataset.Status.UPLOADED, error="", profile=None
    )
    transaction.on_commit(lambda: _enqueue_profile(dataset.pk))
    dataset.refresh_from_db()
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    for run in dataset.runs.all():
        shutil.rmtree(run_dir(run), ignore_errors=True)
    remove_normalized(dataset_path(dataset))
    dataset.file.delete(save=False)
    dataset.delete()


# Runs


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
        time_budget=time_budget or settings.PROMISE_DEFAULT_TIME_BUDGET,
    )
    CandidateResult.objects.bulk_create(
        CandidateResult(run=run, name=c.name, label=c.label, position=i)
        for i, c in enumerate(CANDIDATES)
    )
    transaction.on_commit(lambda: _enqueue_run(run.pk))
    return run


def _enqueue_run(run_id: int) -> None:
    from .tasks import run_pipeline

    run_pipeline(run_id, time_budget=Run.objects.get(pk=run_id).time_budget).apply_async()


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
        plan = prepare_run(
            dataset_path(run.dataset),
            run_dir(run),
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
    except UserFacingError as exc:
        run_fail(run_id=run_id, message=str(exc))
        return
    except Exception:
        log.exception("Preparing run %s failed", run_id)
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


def candidate_train(*, run_id: int, name: str, task_id: str = "") -> None:
    """Train one candidate family of a run; a failure marks only this candidate failed."""
    if not Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists():
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
    max_bytes = _candidate_memory_bytes()

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
        with memory_limit(max_bytes, out_of_memory), lease_renewed(claim):
            outcome = train_candidate(
                run_dir(run),
                RunPlan.from_dict(run.plan),
                name,
                time_limit=time_limit,
                progress=lambda trials, best: CandidateResult.objects.filter(
                    run_id=run_id, name=name
                ).update(trials_done=trials, best_score=best),
                should_stop=lambda: (
                    not Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists()
                ),
                should_finish=lambda: Run.objects.filter(
                    pk=run_id, finish_requested_at__isnull=False
                ).exists(),
            )
    except SearchCancelled:
        return  # run_cancel already marked this candidate
    except SoftTimeLimitExceeded:
        message = f"Training went past the run's time limit ({run.time_budget} s) and was stopped."
        _candidate_failed(run_id, name, message)
        return
    except Exception as exc:
        log.exception("Training %s in run %s failed", name, run_id)
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
        model_dir=outcome.model_dir,
        **_outcome_fields(outcome),
    )


def _outcome_fields(outcome) -> dict:
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


def _candidate_memory_bytes() -> int:
    if settings.PROMISE_CANDIDATE_MEMORY_MB:
        return settings.PROMISE_CANDIDATE_MEMORY_MB * 1024**2
    return default_limit_bytes(workers=os.cpu_count() or 1)


def _candidate_failed(run_id: int, name: str, message: str) -> None:
    CandidateResult.objects.filter(run_id=run_id, name=name).update(
        status=CandidateResult.Status.FAILED, error=message, finished_at=timezone.now()
    )


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
                    fit_seconds=done[s.name].fit_seconds,
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
        transaction.on_commit(lambda: _terminate(task_ids))
    return True


def _terminate(task_ids: list[str]) -> None:
    from promise.celery import app

    app.control.revoke(task_ids, terminate=True, signal="SIGKILL")


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


# Exports


def export_files(*, candidate: CandidateResult) -> dict[str, str]:
    """The text files of the candidate's export, rendered, for previews."""
    from exporters import render_files

    return render_files(_export_spec(candidate))


def _export_spec(candidate: CandidateResult):
    from .automl.export import export_spec, source_file

    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise ServiceError("Only a trained candidate can be exported.")
    run = candidate.run
    dataset = run.dataset
    source = source_file(
        dataset_path(dataset),
        name=dataset.name,
        sha256=dataset.sha256,
        size_bytes=dataset.size_bytes or None,
        source_info=(dataset.profile or {}).get("source"),
        overrides=dataset.read_options,
    )
    if not dataset.sha256:
        # Profiled before hashes were kept: source_file hashed the file now; keep it.
        Dataset.objects.filter(pk=dataset.pk, sha256="").update(sha256=source.sha256)
    return export_spec(
        run_dir(run),
        candidate.name,
        params=candidate.params,
        metrics=candidate.metrics,
        title=f"{candidate.label} for {run.target!r} on {dataset.name}",
        fit_seconds=candidate.fit_seconds,
        source=source,
        # Older candidates kept their fold scores in the chart data only.
        cv_scores=candidate.cv_scores or candidate.charts.get("cv_scores"),
        search_rows=candidate.charts.get("search_rows"),
    )


def export_build(*, candidate: CandidateResult) -> Export:
    """Render the candidate's code export into a zip and store it."""
    from exporters import build_bundle

    spec = _export_spec(candidate)
    run = candidate.run
    zip_path = run_dir(run) / "exports" / f"promise-run{run.pk}-{candidate.name}.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    build_bundle(spec, zip_path)
    export = Export(owner=run.owner, candidate=candidate)
    with zip_path.open("rb") as handle:
        export.file.save(zip_path.name, File(handle), save=True)
    zip_path.unlink()
    return export


# Chunked uploads (added by the browser-experience work, issue 7)


def dataset_create_from_upload(*, owner, path: Path, name: str) -> Dataset:
    """Make a finished chunked upload a dataset and queue its profiling.

    On local storage the file is renamed into the datasets folder, so a file of many
    GB is written once; other storages (S3) get it streamed by `File.save`.
    """
    size = path.stat().st_size
    _check_upload_size(size)
    name = Path(name).name[:255] or "upload.csv"
    with transaction.atomic():
        dataset = Dataset.objects.create(owner=owner, name=name, size_bytes=size)
        storage = dataset.file.storage
        stored_name = storage.get_available_name(
            dataset.file.field.generate_filename(dataset, name)
        )
        try:
            destination = Path(storage.path(stored_name))
        except NotImplementedError:
            with path.open("rb") as handle:
                dataset.file.save(name, File(handle), save=True)
            path.unlink()
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, destination)  # a rename when both are on one filesystem
            dataset.file.name = stored_name
            dataset.save(update_fields=["file"])
        transaction.on_commit(lambda: _enqueue_profile(dataset.pk))
    return dataset


# Confirmation on the whole file (issue 11)

# The models a sampled run confirms by itself: the recommended one and the runner-up.
CONFIRMED_RANKS = (1, 2)


def run_confirm_best(*, run_id: int) -> None:
    """Queue the whole-file confirmation of a sampled run's recommended model and runner-up.

    Called once the run is ranked. A run that trained on every row has no other rows.
    """
    run = Run.objects.get(pk=run_id)
    if run.status != Run.Status.SUCCEEDED or not run.sampled:
        return
    best = run.candidates.filter(status=CandidateResult.Status.SUCCEEDED, rank__in=CONFIRMED_RANKS)
    _confirm_queue(run_id, list(best.order_by("rank").values_list("pk", flat=True)))


def candidate_confirm(*, candidate: CandidateResult) -> CandidateResult:
    """Queue the confirmation of any trained model of a sampled run on the whole file."""
    run = candidate.run
    if run.status != Run.Status.SUCCEEDED or candidate.status != CandidateResult.Status.SUCCEEDED:
        raise ServiceError("Only a trained model of a finished run can be confirmed.")
    if not run.sampled:
        raise ServiceError(
            "This run trained on every row of the file, so its holdout already holds every "
            "row it did not train on: there is nothing more to confirm."
        )
    if not _confirm_queue(run.pk, [candidate.pk]):
        candidate.refresh_from_db()
        state = {
            CandidateResult.Confirmation.QUEUED: "is already waiting to be scored",
            CandidateResult.Confirmation.RUNNING: "is being scored right now",
        }.get(candidate.confirm_status, "is already confirmed")
        raise ServiceError(f"{candidate.label} {state} on the whole file.")
    candidate.refresh_from_db()
    return candidate


@transaction.atomic
def _confirm_queue(run_id: int, candidate_ids: list[int]) -> list[int]:
    """Mark the candidates queued (unless queued, running or done already) and send one task."""
    Confirmation = CandidateResult.Confirmation
    queued = [
        pk
        for pk in candidate_ids
        if CandidateResult.objects.filter(
            pk=pk, confirm_status__in=[Confirmation.NONE, Confirmation.FAILED]
        ).update(confirm_status=Confirmation.QUEUED, confirm_error="")
    ]
    if queued:
        transaction.on_commit(lambda: _enqueue_confirm(run_id, queued))
    return queued


def _enqueue_confirm(run_id: int, candidate_ids: list[int]) -> None:
    from . import tasks

    tasks.confirm_candidates.delay(run_id, candidate_ids)


def run_confirm(*, run_id: int, candidate_ids: list[int]) -> None:
    """Score the queued candidates on every row of the file their run did not train on.

    One pass over the file for all of them. The run's own status never changes: a
    failure is a sentence on each candidate's confirmation.
    """
    Confirmation = CandidateResult.Confirmation
    # RUNNING too: a worker that died mid-pass gets its task back (acks_late), and the
    # pass is deterministic, so doing it again writes the same result.
    claimed = [
        pk
        for pk in candidate_ids
        if CandidateResult.objects.filter(
            pk=pk, run_id=run_id, confirm_status__in=[Confirmation.QUEUED, Confirmation.RUNNING]
        ).update(confirm_status=Confirmation.RUNNING)
    ]
    if not claimed:
        return
    run = Run.objects.select_related("dataset").get(pk=run_id)
    ids = dict(CandidateResult.objects.filter(pk__in=claimed).values_list("name", "pk"))
    try:
        confirmed = confirm_candidates(
            dataset_path(run.dataset),
            run_dir(run),
            list(ids),
            options=IngestOptions(**run.dataset.read_options),
        )
    except UserFacingError as exc:
        _confirm_failed(claimed, str(exc))
        return
    except Exception:
        log.exception("Confirming candidates %s of run %s failed", claimed, run_id)
        _confirm_failed(claimed, UNEXPECTED_ERROR.format(doing="scoring on the whole file"))
        return
    for name, result in confirmed.items():
        metrics = dict(result.metrics)
        if result.unknown_class_rows:
            metrics["unknown_class_rows"] = result.unknown_class_rows
        CandidateResult.objects.filter(pk=ids[name], confirm_status=Confirmation.RUNNING).update(
            confirm_status=Confirmation.SUCCEEDED, full_metrics=metrics, full_rows=result.rows
        )


def _confirm_failed(candidate_ids: list[int], message: str) -> None:
    CandidateResult.objects.filter(pk__in=candidate_ids).update(
        confirm_status=CandidateResult.Confirmation.FAILED, confirm_error=message
    )


# Second round (issue 11): the time the first round left goes to searches that can improve

# Worker processes the training queue is planned for (as candidate_time_limit's).
TRAINING_WORKERS = 2


def run_second_round(*, run_id: int) -> None:
    """Once every first-round search has ended: continue those that can still improve
    in the time left (automl/second_round.py), then rank; rank at once when none can.

    Decided once and stored on the run; a copy of this step (a lost worker) sends the
    continued candidates that have not started yet again, and their own claims make
    that safe.
    """
    if not Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists():
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
        names = [n for n in run.second_round["seconds"] if n in queued]  # the planned order
        if names:
            transaction.on_commit(lambda: _enqueue_second_round(run_id, names, run.time_budget))
    if not names:
        run_rank(run_id=run_id)


def _second_round_plan(run: Run) -> dict:
    ends_at = run.started_at + timedelta(seconds=run.time_budget * ROUND_END)
    left = max(0.0, (ends_at - timezone.now()).total_seconds())
    if run.finish_requested_at:
        left = 0.0  # "finish now": the user is waiting for the ranking
    first = []
    for candidate in run.candidates.filter(status=CandidateResult.Status.SUCCEEDED):
        try:
            search = load_search(run_dir(run) / "candidates" / candidate.name)
        except (OSError, ValueError, TypeError, KeyError):
            continue  # trained before searches were kept: it is not continued
        first.append(
            FirstRound.of(
                candidate.name, candidate.label, search, refit_seconds=candidate.fit_seconds or 0
            )
        )
    plan = plan_second_round(
        first, seconds_left=left, budget=run.time_budget, workers=TRAINING_WORKERS
    )
    return {**plan.to_dict(), "ends_at": ends_at.isoformat()}


def _enqueue_second_round(run_id: int, names: list[str], time_budget: int) -> None:
    from .tasks import second_round_pipeline

    second_round_pipeline(run_id, names, time_budget=time_budget).apply_async()


def candidate_extend(*, run_id: int, name: str, task_id: str = "") -> None:
    """Continue one candidate's search in the second round (discovery.extend_candidate).

    Its first-round result stays unless the CV score improves; then the new model, its
    scores and charts replace it. Whatever goes wrong here (a lost worker, memory, the
    clock) stops only the second round: the candidate keeps the model it has.
    """
    if not Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists():
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
            discard_extension(run_dir(run), name)
        elif candidate.filter(second_round=SecondRound.IMPROVED).exists():
            adopt_extension(run_dir(run), name)
        return
    ends_at = datetime.fromisoformat(run.second_round["ends_at"])
    time_limit = min(run.second_round["seconds"][name], (ends_at - timezone.now()).total_seconds())
    before = candidate.get()
    running = candidate.filter(second_round=SecondRound.RUNNING)
    if time_limit < 1 or run.finish_requested_at:
        running.update(second_round=SecondRound.STOPPED)
        return
    max_bytes = _candidate_memory_bytes()
    try:
        with memory_limit(max_bytes, lambda rss: running.update(second_round=SecondRound.STOPPED)):
            extension = extend_candidate(
                run_dir(run),
                RunPlan.from_dict(run.plan),
                name,
                time_limit=time_limit,
                progress=lambda trials, best: running.update(trials_done=trials, best_score=best),
                should_stop=lambda: (
                    not Run.objects.filter(pk=run_id, status=Run.Status.TRAINING).exists()
                ),
                should_finish=lambda: Run.objects.filter(
                    pk=run_id, finish_requested_at__isnull=False
                ).exists(),
            )
    except SearchCancelled:
        return
    except Exception:  # SoftTimeLimitExceeded too
        log.exception("The second round of %s in run %s failed", name, run_id)
        running.update(second_round=SecondRound.STOPPED)
        discard_extension(run_dir(run), name)
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
        second_round=SecondRound.IMPROVED, best_score=outcome.cv_mean, **_outcome_fields(outcome)
    )
    if improved:
        adopt_extension(run_dir(run), name)
    else:  # a copy of this task stopped it meanwhile: the first round's model stays
        discard_extension(run_dir(run), name)
