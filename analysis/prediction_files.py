"""The file scoring service: store an uploaded CSV of records and queue it, then (in the
worker) check and score it; see analysis/batch_predictions.py for what the user gets."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from . import audit, file_store, serving, workflow
from .batch_predictions import BatchPrediction, BatchRefused
from .batch_scoring import read_header, score_file
from .models import CandidateResult
from .storage import stored_file_name, upload_name

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024**2


def batch_prediction_create(*, candidate: CandidateResult, upload) -> BatchPrediction:
    """Store the uploaded CSV, check its header against the model, queue its scoring."""
    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise BatchRefused("This candidate has no trained model.")
    if upload is None:
        raise BatchRefused("Choose a CSV file of records to score.", {"file": ["Required."]})
    if upload.size > MAX_FILE_BYTES:
        raise BatchRefused(
            f"The file is larger than {MAX_FILE_BYTES // 1024**2} MB: split it, or score it "
            "with the exported predict.py.",
            {"file": ["Too large."]},
        )
    try:
        schema = serving.feature_schema(candidate)
    except serving.PredictionError as exc:
        raise BatchRefused(str(exc)) from exc
    batch = BatchPrediction(owner=candidate.run.owner, candidate=candidate)
    batch.name = upload_name(getattr(upload, "name", ""))
    batch.input_file.save(stored_file_name(batch.name), File(upload), save=False)
    try:
        with file_store.local_copy(batch.input_file.name) as path:
            read_header(path, schema)
    except BatchRefused:
        batch.input_file.delete(save=False)
        raise
    with transaction.atomic():
        batch.save()
        audit.record(audit.AuditEntry.Action.PREDICT_BULK, user=batch.owner, target=batch)
        # Broker down: a 503 says it starts by itself, and the reconciler sends it later.
        transaction.on_commit(lambda: workflow.send_scoring(batch.pk))
    return batch


def batch_prediction_score(*, batch_id: int) -> None:
    """Check and score a queued file (a redelivered one being scored starts again)."""
    claimed = BatchPrediction.objects.filter(
        pk=batch_id, status__in=[BatchPrediction.Status.QUEUED, BatchPrediction.Status.RUNNING]
    ).update(status=BatchPrediction.Status.RUNNING, rows_done=0)
    if not claimed:
        return
    batch = BatchPrediction.objects.select_related("candidate").get(pk=batch_id)
    # The scored copy is written in a scratch folder of this worker, then stored.
    with tempfile.TemporaryDirectory(prefix="promise-scoring-") as scratch:
        out = Path(scratch) / f"{batch.pk}.csv"
        try:
            with file_store.local_copy(batch.input_file.name) as source:
                summary = score_file(
                    batch.candidate,
                    source,
                    out,
                    progress=lambda done, total: BatchPrediction.objects.filter(pk=batch_id).update(
                        rows_done=done, rows_total=total
                    ),
                )
        except (BatchRefused, serving.PredictionError) as exc:
            _fail(batch, getattr(exc, "sentence", str(exc)), getattr(exc, "fields", {}))
            return
        except Exception:
            log.exception("scoring file %s failed", batch_id)
            _fail(batch, "Scoring the file failed on the server; it was logged. Try again.", {})
            return
        with out.open("rb") as handle:
            batch.result_file.save(batch.result_name(), File(handle), save=False)
    BatchPrediction.objects.filter(pk=batch_id).update(
        status=BatchPrediction.Status.SUCCEEDED,
        result_file=batch.result_file.name,
        rows_done=summary.rows,
        rows_total=summary.rows,
        ignored_columns=summary.ignored_columns,
        unseen_categories=summary.unseen_categories,
        finished_at=timezone.now(),
    )


def _fail(batch: BatchPrediction, sentence: str, fields: dict) -> None:
    BatchPrediction.objects.filter(pk=batch.pk).update(
        status=BatchPrediction.Status.FAILED,
        error=sentence,
        error_fields=fields,
        finished_at=timezone.now(),
    )
