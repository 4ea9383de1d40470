"""Limits per user: the largest upload, the storage quota, the runs at once and the
longest time budget. Each defaults to a setting; an administrator sets one user's own in
the admin (a blank field keeps the default).

Each check runs before anything is created or stored and raises `LimitExceeded` with
the sentence the page and the API show (refusals.py; the API answers it with
`status`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum

from .models import Dataset, Run
from .refusals import LimitExceeded
from .user_limits import UserLimits


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    storage_quota_bytes: int
    max_concurrent_runs: int
    max_time_budget: int


def limits_for(user_id: int) -> Limits:
    """The user's limits: their own where an administrator set one, else the settings'."""
    own = UserLimits.objects.filter(user_id=user_id).first()
    defaults = Limits(
        max_upload_bytes=settings.PROMISE_MAX_UPLOAD_BYTES,
        storage_quota_bytes=settings.PROMISE_STORAGE_QUOTA_BYTES,
        max_concurrent_runs=settings.PROMISE_MAX_CONCURRENT_RUNS,
        max_time_budget=settings.PROMISE_MAX_TIME_BUDGET,
    )
    if own is None:
        return defaults
    return Limits(
        **{
            name: default if getattr(own, name) is None else getattr(own, name)
            for name, default in vars(defaults).items()
        }
    )


def amount(size: int) -> str:
    """Bytes as a person reads them: 1.5 GB, 20 MB, 512 bytes."""
    for unit, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:,.3g} {unit}"
    return f"{size:,} bytes"


def storage_used(user_id: int) -> int:
    """Bytes of the user's stored datasets."""
    return Dataset.objects.filter(owner_id=user_id).aggregate(n=Sum("size_bytes"))["n"] or 0


def lock_user(user_id: int) -> None:
    """Hold the user's row until the transaction ends, so two requests at once cannot
    both pass a limit."""
    get_user_model().objects.select_for_update().filter(pk=user_id).first()


def check_upload(user_id: int, size: int, *, pending: int = 0) -> None:
    """Refuse a file of `size` bytes over the largest upload or the storage quota;
    `pending` counts bytes already held for the user outside datasets (this upload's
    chunks so far do not count twice)."""
    limits = limits_for(user_id)
    if size > limits.max_upload_bytes:
        raise LimitExceeded(
            f"The file is larger than the {amount(limits.max_upload_bytes)} limit: upload a "
            "smaller file, or a compressed one (.csv.gz, .zip, Parquet).",
            status=413,
        )
    used = storage_used(user_id) + pending
    if used + size > limits.storage_quota_bytes:
        left = max(limits.storage_quota_bytes - used, 0)
        raise LimitExceeded(
            f"This file ({amount(size)}) does not fit in your storage quota of "
            f"{amount(limits.storage_quota_bytes)}: {amount(left)} is left. Delete datasets "
            "you no longer need, or ask an administrator for more room.",
            status=413,
        )


def check_run(user_id: int, time_budget: int) -> None:
    """Refuse a run over the user's time-budget ceiling or past their runs at once."""
    limits = limits_for(user_id)
    if time_budget > limits.max_time_budget:
        raise LimitExceeded(
            f"The time budget of {time_budget:,} seconds is over your limit of "
            f"{limits.max_time_budget:,} seconds: choose a shorter one.",
        )
    going = Run.objects.filter(owner_id=user_id, status__in=Run.ACTIVE).count()
    if going >= limits.max_concurrent_runs:
        runs = "run" if limits.max_concurrent_runs == 1 else "runs"
        raise LimitExceeded(
            f"You have {going:,} runs going, and your limit is {limits.max_concurrent_runs:,} "
            f"{runs} at once: wait for one to end, or cancel one, then start this one.",
            status=429,
        )
