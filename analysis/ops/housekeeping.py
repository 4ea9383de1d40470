"""Housekeeping: what is removed on Celery beat's schedule (settings.CELERY_BEAT_SCHEDULE)
and by the `manage.py` commands of the same names, which take --dry-run.

Each chore returns a `Chore`: one line per thing it removed (or would remove), and the
count and bytes, so a command prints it and a task returns it to the worker's log.
Runs whose worker died are reaped by the reconciler (analysis/reconcile.py), and files
no row points to are found by analysis/leftovers.py: both reused here, not repeated.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from .. import leftovers, reconcile
from ..liveness import CannotTell, live_tasks
from ..models import Dataset, Run
from ..services import dataset_delete
from ..uploads import abandoned_uploads, uploads_dir


@dataclass
class Chore:
    dry_run: bool
    lines: list[str] = field(default_factory=list)
    count: int = 0
    bytes: int = 0

    def add(self, line: str, size: int = 0) -> None:
        self.lines.append(f"{'Would remove' if self.dry_run else 'Removed'} {line}")
        self.count += 1
        self.bytes += size

    def summary(self, what: str) -> str:
        verb = "would be removed" if self.dry_run else "removed"
        return f"{self.count} {what} {verb}, {self.bytes / 1e6:,.1f} MB."

    def as_dict(self) -> dict:
        return asdict(self)


def expired_datasets(now=None) -> list[Dataset]:
    """Datasets not uploaded nor run for PROMISE_DATASET_RETENTION_DAYS (none when 0)."""
    days = settings.PROMISE_DATASET_RETENTION_DAYS
    if days <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return list(
        Dataset.objects.annotate(last_run=Max("runs__created_at"))
        .filter(created_at__lt=cutoff)
        .filter(Q(last_run__isnull=True) | Q(last_run__lt=cutoff))
        .exclude(runs__status__in=Run.ACTIVE)
        .select_related("owner")
        .order_by("pk")
    )


def expire_datasets(*, dry_run: bool = False) -> Chore:
    chore = Chore(dry_run)
    for dataset in expired_datasets():
        chore.add(
            f"dataset {dataset.pk} “{dataset.name}” of {dataset.owner.username} "
            f"(uploaded {dataset.created_at:%Y-%m-%d}) with its runs, models and exports",
            dataset.size_bytes,
        )
        if not dry_run:
            dataset_delete(dataset=dataset)
    return chore


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def expire_uploads(*, dry_run: bool = False, now: float | None = None) -> Chore:
    """Every user's uploads that received nothing for PROMISE_UPLOAD_EXPIRY_SECONDS."""
    chore = Chore(dry_run)
    root = uploads_dir()
    cutoff = (now or time.time()) - settings.PROMISE_UPLOAD_EXPIRY_SECONDS
    owners = sorted(root.iterdir()) if root.is_dir() else []
    for owner in owners:
        for folder in abandoned_uploads(owner, cutoff):
            idle = (time.time() - (folder / "data").stat().st_mtime) / 3600
            chore.add(
                f"unfinished upload {folder.name} of user {owner.name} (idle {idle:,.1f} h)",
                _size(folder),
            )
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    return chore


def remove_leftovers(*, dry_run: bool = False) -> Chore:
    """Partial files of dead writers and files no row points to, as `manage.py cleanup`
    removes them; rows whose files are missing are left to a person running cleanup (a
    file missing for a moment, as on a storage outage, must not delete data unattended)."""
    chore = Chore(dry_run)
    found = leftovers.stale_partials() + leftovers.orphan_files()
    for leftover in found:
        chore.add(f"{leftover.path}: {leftover.why}", leftover.bytes)
    if not dry_run:
        chore.bytes = leftovers.remove(found)
    return chore


def reap_runs(*, dry_run: bool = False) -> Chore:
    """The reconciler's pass; with dry_run, only the rows no live task is working on."""
    chore = Chore(dry_run)
    if dry_run:
        try:
            orphans = reconcile.find_orphans(live_tasks())
        except CannotTell as exc:
            chore.lines.append(f"Nothing can be called lost now: {exc}.")
            return chore
        for orphan in orphans:
            chore.lines.append(f"Would continue {orphan.key} ({orphan.step}): no live task has it")
            chore.count += 1
        return chore
    report = reconcile.reconcile()
    if "skipped" in report:
        chore.lines.append(f"Skipped: {report['skipped']}.")
    for key in report.get("sent", []):
        chore.lines.append(f"Sent again {key}: its task was lost")
    for key in report.get("failed", []):
        chore.lines.append(f"Failed {key}: its task was lost too many times")
    waiting = (
        set(report.get("orphans", [])) - set(report.get("sent", [])) - set(report.get("failed", []))
    )
    for key in sorted(waiting):
        chore.lines.append(f"Found {key} with no live task: continued if still so on the next pass")
    chore.count = len(report.get("sent", [])) + len(report.get("failed", []))
    return chore
