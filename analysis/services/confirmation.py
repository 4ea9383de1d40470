"""Confirmation: scoring a sampled run's models on every row of the file it did not train on."""

from __future__ import annotations

import logging

from django.db import transaction

from .. import workflow
from ..automl.confirm import confirm_candidates
from ..automl.errors import UserFacingError
from ..automl.ingest import IngestOptions
from ..models import CandidateResult, Run
from ..refusals import UNEXPECTED_ERROR, ServiceError
from ..storage import dataset_file, run_folder

log = logging.getLogger(__name__)

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
        transaction.on_commit(lambda: workflow.send_confirmation(run_id, queued))
    return queued


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
        with dataset_file(run.dataset) as source, run_folder(run) as folder:
            confirmed = confirm_candidates(
                source, folder, list(ids), options=IngestOptions(**run.dataset.read_options)
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
