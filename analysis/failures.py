"""The tracebacks of our own failures, kept for staff.

A user sees the sentence stored on the dataset, run or candidate that failed; the
traceback behind it goes to the log and here, where the operations dashboard
(analysis/ops/) shows it beside that sentence. Rows go with their dataset or run.
"""

from __future__ import annotations

import logging
import traceback

from django.db import models

log = logging.getLogger(__name__)

TRACEBACK_CHARS = 20_000  # the end of a traceback is the part that says what failed


class FailureTrace(models.Model):
    class Kind(models.TextChoices):
        DATASET = "dataset"
        RUN = "run"
        CANDIDATE = "candidate"

    kind = models.CharField(max_length=16, choices=Kind)
    dataset = models.ForeignKey("analysis.Dataset", null=True, on_delete=models.CASCADE)
    run = models.ForeignKey("analysis.Run", null=True, on_delete=models.CASCADE)
    candidate = models.CharField(max_length=32, blank=True)  # the family's name in the run
    traceback = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


def record_traceback(
    *, dataset_id: int | None = None, run_id: int | None = None, candidate: str = ""
) -> None:
    """Keep the traceback of the exception being handled; call it inside `except`.

    Never raises: a failure to record must not hide the failure being recorded."""
    kind = (
        FailureTrace.Kind.CANDIDATE
        if candidate
        else FailureTrace.Kind.RUN
        if run_id
        else FailureTrace.Kind.DATASET
    )
    try:
        FailureTrace.objects.create(
            kind=kind,
            dataset_id=dataset_id,
            run_id=run_id,
            candidate=candidate,
            traceback=traceback.format_exc()[-TRACEBACK_CHARS:],
        )
    except Exception:  # e.g. the row was deleted meanwhile (foreign key)
        log.warning("The traceback of a failure was not kept", exc_info=True)
