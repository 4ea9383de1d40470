"""Scoring a file of records with a trained candidate, in the background.

A user uploads a CSV of records (the page or `POST /api/candidates/<id>/predict/file/`);
its header is checked against the model's columns at once (a missing column is refused
by name before anything is queued), then a worker (`score_prediction_file`) checks every
record the way the prediction API does (analysis/prediction_input.py), and only when all
pass writes the result: the file's own columns as they were, then "prediction" and, for
classification, one "probability_<class>" column per class. Progress is counted in rows.

The result is a CSV a spreadsheet can open safely: a text cell or name that starts like a
formula (=, +, -, @, a tab or a carriage return, and is not a plain number) gets a
leading ', the rule of the exported predict.py (exporters/templates/predict.py.j2).
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone

from . import audit
from .models import CandidateResult

log = logging.getLogger(__name__)

TASK_NAME = "analysis.tasks.score_prediction_file"
MAX_FILE_BYTES = 512 * 1024**2


class BatchPrediction(models.Model):
    """One uploaded file of records and its scored copy."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batch_predictions"
    )
    candidate = models.ForeignKey(
        CandidateResult, on_delete=models.CASCADE, related_name="batch_predictions"
    )
    name = models.CharField(max_length=255)  # the uploaded file's name, as shown
    input_file = models.FileField(upload_to="predictions/in/", max_length=300)
    result_file = models.FileField(upload_to="predictions/out/", max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.BigIntegerField(default=0)  # known once every record is checked
    rows_done = models.BigIntegerField(default=0)
    ignored_columns = models.JSONField(default=list, blank=True)
    unseen_categories = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    error_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    def result_name(self) -> str:
        stem = self.name.rsplit(".", 1)[0] or "records"
        return f"{stem}-predictions.csv"


class BatchRefused(Exception):
    """The file cannot be scored: a sentence, and messages by column."""

    def __init__(self, sentence: str, fields: dict[str, list[str]] | None = None):
        super().__init__(sentence)
        self.sentence = sentence
        self.fields = fields or {}


def batch_prediction_create(*, candidate: CandidateResult, upload) -> BatchPrediction:
    """Store the uploaded CSV, check its header against the model, queue its scoring."""
    from . import serving
    from .batch_scoring import read_header
    from .storage import stored_file_name, upload_name

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
        read_header(Path(batch.input_file.path), schema)
    except BatchRefused:
        batch.input_file.delete(save=False)
        raise
    with transaction.atomic():
        batch.save()
        audit.record(audit.AuditEntry.Action.PREDICT_BULK, user=batch.owner, target=batch)
        transaction.on_commit(lambda: _send(batch.pk))
    return batch


def _send(batch_id: int) -> None:
    from . import workflow

    task = workflow.app.signature(TASK_NAME, args=(batch_id,), immutable=True)
    workflow._send(task, what="scoring the file", again="upload it again")


def batch_prediction_score(*, batch_id: int) -> None:
    """Check and score a queued file (a redelivered one being scored starts again)."""
    from . import serving
    from .batch_scoring import score_file

    claimed = BatchPrediction.objects.filter(
        pk=batch_id, status__in=[BatchPrediction.Status.QUEUED, BatchPrediction.Status.RUNNING]
    ).update(status=BatchPrediction.Status.RUNNING, rows_done=0)
    if not claimed:
        return
    batch = BatchPrediction.objects.select_related("candidate").get(pk=batch_id)
    out = Path(settings.MEDIA_ROOT) / "predictions" / "work" / f"{batch.pk}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        summary = score_file(
            batch.candidate,
            Path(batch.input_file.path),
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
    out.unlink(missing_ok=True)
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
