"""What PROMISE stores: datasets, discovery runs, their candidates, and exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def dataset_upload_path(dataset: Dataset, filename: str) -> str:
    return f"datasets/{dataset.owner_id}/{filename}"


class Dataset(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        PROFILING = "profiling", "Profiling"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to=dataset_upload_path, max_length=500)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status, default=Status.UPLOADED)
    error = models.TextField(blank=True)
    profile = models.JSONField(null=True, blank=True)
    # The user's overrides for reading the file (ingest.IngestOptions fields).
    read_options = models.JSONField(default=dict, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    # Of the stored file's bytes, so an export can say which file it was discovered on.
    sha256 = models.CharField(max_length=64, blank=True)
    column_count = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # A user's list, newest first; housekeeping's datasets older than the retention.
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="dataset_owner_newest"),
            models.Index(fields=["created_at"], name="dataset_created"),
        ]

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SAMPLING = "sampling", "Sampling"
        TRAINING = "training", "Training"
        RANKING = "ranking", "Ranking"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.SAMPLING, Status.TRAINING, Status.RANKING)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="runs")
    target = models.CharField(max_length=500)
    task = models.CharField(max_length=16, blank=True, help_text="Blank: detected from the target.")
    excluded_columns = models.JSONField(default=list, blank=True)
    sample_size = models.BigIntegerField(null=True, blank=True, help_text="Blank: the full data.")
    sample_strategy = models.CharField(max_length=16, default="random")
    time_column = models.CharField(max_length=500, blank=True)
    seed = models.IntegerField(default=0)
    time_budget = models.IntegerField(default=120, help_text="Seconds for the whole run.")

    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    error = models.TextField(blank=True)
    plan = models.JSONField(null=True, blank=True)
    sample_rows = models.BigIntegerField(null=True, blank=True)
    total_rows = models.BigIntegerField(null=True, blank=True)
    metric = models.CharField(max_length=32, blank=True)
    recommended = models.CharField(max_length=32, blank=True)
    insights = models.JSONField(default=list, blank=True)
    worker_task_id = models.CharField(max_length=64, blank=True)
    # "Finish now": the searches stop and the run ranks what they have found so far.
    finish_requested_at = models.DateTimeField(null=True, blank=True)
    # The second round, decided once the first ends (services.run_second_round): the
    # seconds left, the candidates continued with their seconds, the converged ones with
    # why, and a sentence for the page when there was none. Null: not decided yet.
    second_round = models.JSONField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # A user's list, newest first; the dashboard's runs by state and its active runs
        # oldest first (the stuck ones), and the reconciler's active runs.
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="run_owner_newest"),
            models.Index(fields=["status", "created_at"], name="run_status_created"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} on {self.dataset} → {self.target}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def sampled(self) -> bool:
        return bool(self.sample_rows and self.total_rows and self.sample_rows < self.total_rows)


class CandidateResult(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class SecondRound(models.TextChoices):
        NONE = "", "No second round"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Searching"
        IMPROVED = "improved", "Improved"
        KEPT = "kept", "No better trial"
        STOPPED = "stopped", "Stopped"

    class Confirmation(models.TextChoices):
        NONE = "", "Not confirmed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Confirmed"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="candidates")
    name = models.CharField(max_length=32)
    label = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)
    predict_ms_per_1000 = models.FloatField(null=True, blank=True)
    model_bytes = models.BigIntegerField(null=True, blank=True)
    model_dir = models.CharField(max_length=500, blank=True)
    cv_mean = models.FloatField(null=True, blank=True)
    cv_std = models.FloatField(null=True, blank=True)
    # The best trial's score on each CV fold, for the fold-paired test against the leader.
    cv_scores = models.JSONField(default=list, blank=True)
    # 95% bootstrap interval of the holdout score, [low, high] in the run's metric.
    holdout_ci = models.JSONField(null=True, blank=True)
    tied_with_first = models.BooleanField(null=True, blank=True)
    # The claim on training: a live worker renews it; a redelivered copy that finds it
    # unexpired leaves the candidate alone.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Confirmation on the rows of the whole file that the run did not train on.
    confirm_status = models.CharField(max_length=16, choices=Confirmation, blank=True)
    confirm_error = models.TextField(blank=True)
    full_metrics = models.JSONField(null=True, blank=True)
    full_rows = models.BigIntegerField(null=True, blank=True)
    train_metrics = models.JSONField(default=dict, blank=True)
    charts = models.JSONField(default=dict, blank=True)
    trials_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started training it (a lost worker's task returns)."
    )
    best_score = models.FloatField(null=True, blank=True, help_text="Best CV score so far.")
    # Its search continued in the run's second round (the result stays until it improves).
    second_round = models.CharField(max_length=16, choices=SecondRound, blank=True, default="")
    worker_task_id = models.CharField(max_length=64, blank=True)
    # The Celery worker (its --hostname, e.g. train@host-3) that last claimed its training.
    worker_hostname = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="one_result_per_family")
        ]

    def __str__(self) -> str:
        return f"{self.label} in run {self.run_id}"

    @property
    def score(self) -> float | None:
        return self.metrics.get(self.run.metric)


class Export(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    candidate = models.ForeignKey(CandidateResult, on_delete=models.CASCADE, related_name="exports")
    file = models.FileField(upload_to="exports/", max_length=500)
    # SHA-256 of what the zip is made of (services.exports): asked for again with the
    # same contents, the stored zip is served instead of a new one.
    contents_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


# Concepts whose models live with them: the audit log, files of records scored in bulk,
# deployments (champion and challenger), the tracebacks behind failures (for staff),
# limits per user, and personal API tokens.
from .audit import AuditEntry  # noqa: E402, F401
from .batch_predictions import BatchPrediction  # noqa: E402, F401
from .deployments import Deployment, DeploymentChange  # noqa: E402, F401
from .failures import FailureTrace  # noqa: E402, F401
from .tokens import ApiToken  # noqa: E402, F401
from .user_limits import UserLimits  # noqa: E402, F401
