"""One user's own limits, set by an administrator in the admin; a blank field keeps the
setting's default. limits.py reads them and makes the checks."""

from django.conf import settings
from django.db import models


class UserLimits(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limits"
    )
    max_upload_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="Largest file, in bytes. Blank: the default."
    )
    storage_quota_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="Bytes of stored datasets. Blank: the default."
    )
    max_concurrent_runs = models.PositiveIntegerField(
        null=True, blank=True, help_text="Runs going at once. Blank: the default."
    )
    max_time_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longest time budget of a run, in seconds."
    )

    class Meta:
        app_label = "analysis"
        verbose_name_plural = "user limits"

    def __str__(self) -> str:
        return f"Limits of {self.user}"
