"""A file of records scored with a trained candidate in the background (the model; the
service is analysis/prediction_files.py, the reading and writing analysis/batch_scoring.py).

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

from django.conf import settings
from django.db import models


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
        "analysis.CandidateResult", on_delete=models.CASCADE, related_name="batch_predictions"
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

    # By column name: PostgreSQL's jsonb does not keep a stored object's key order.
    def unseen_by_column(self) -> list[tuple[str, list[str]]]:
        return sorted(self.unseen_categories.items())

    def error_fields_by_column(self) -> list[tuple[str, list[str]]]:
        return sorted(self.error_fields.items())

    def result_name(self) -> str:
        stem = self.name.rsplit(".", 1)[0] or "records"
        return f"{stem}-predictions.csv"


class BatchRefused(Exception):
    """The file cannot be scored: a sentence, and messages by column."""

    def __init__(self, sentence: str, fields: dict[str, list[str]] | None = None):
        super().__init__(sentence)
        self.sentence = sentence
        self.fields = fields or {}
