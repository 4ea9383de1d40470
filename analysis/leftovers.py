"""What a crash or a deletion can leave on disk, found and removed.

Partial files: whatever is being written is named ``….<host>-<pid>.partial``
(ingest/scratch.py), so one left by a killed process is recognised. A worker removes
those of dead processes of its machine when it starts (Celery's ``worker_ready``); those
of other machines, or older than STALE_SECONDS whoever wrote them, go too.

Orphans, for ``manage.py cleanup``: files under MEDIA_ROOT that no row points to (an
upload whose dataset is gone, a Parquet copy whose upload is gone, a run's folder whose
run is gone) and rows whose file is gone (listed only: deleting a user's dataset is for
them or an administrator to decide).
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .automl.ingest.scratch import PARTIAL_SUFFIX, partial_owner, writer_is_gone
from .models import Dataset, Export, Run

log = logging.getLogger(__name__)

# A partial file nobody has written to for this long is abandoned, whoever wrote it (a
# live writer adds to it every few seconds).
STALE_SECONDS = 3600
# A Parquet copy beside an upload (ingest/parquet_copy.py): ".<upload name>.<digest>.parquet".
_COPY_NAME = re.compile(r"^\.(?P<source>.+)\.[0-9a-f]{12}\.parquet$")


@dataclass(frozen=True)
class Leftover:
    path: Path
    bytes: int
    why: str


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _partial_candidates() -> Iterator[Path]:
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir():
        yield from media.rglob(f"*{PARTIAL_SUFFIX}")
    # Where ingest writes when the upload's folder is not writable: only files of ours.
    for path in Path(tempfile.gettempdir()).glob(f".*{PARTIAL_SUFFIX}"):
        if partial_owner(path.name):
            yield path


def stale_partials(*, now: float | None = None) -> list[Leftover]:
    """Partial files whose writer is gone: a dead process of this machine, or silent for
    STALE_SECONDS."""
    now = time.time() if now is None else now
    found = []
    for path in _partial_candidates():
        try:
            age = now - path.stat().st_mtime
            size = path.stat().st_size
        except FileNotFoundError:  # finished or removed meanwhile
            continue
        if writer_is_gone(path.name):
            pid = partial_owner(path.name)[1]
            found.append(Leftover(path, size, f"its process {pid} on this machine is gone"))
        elif age > STALE_SECONDS:
            found.append(Leftover(path, size, f"not written to for {age / 3600:,.1f} h"))
    return found


def orphan_files(*, now: float | None = None) -> list[Leftover]:
    """Files under MEDIA_ROOT that no row points to, untouched for STALE_SECONDS.

    The age spares a file whose row is not committed yet: an upload is moved into place
    inside the transaction that creates its dataset, and is invisible here until then.
    """
    media = Path(settings.MEDIA_ROOT)
    now = time.time() if now is None else now
    found = []
    known = {
        str(media / name)
        for model in (Dataset, Export)
        for name in model.objects.exclude(file="").values_list("file", flat=True)
    }
    datasets = media / "datasets"
    if datasets.is_dir():
        for path in datasets.rglob("*"):
            if not path.is_file() or path.name.endswith(PARTIAL_SUFFIX) or str(path) in known:
                continue
            if copy := _COPY_NAME.match(path.name):
                if not (path.parent / copy["source"]).exists():
                    found.append(Leftover(path, _size(path), "a Parquet copy of a deleted upload"))
            else:
                found.append(Leftover(path, _size(path), "an upload whose dataset is gone"))
    exports = media / "exports"
    if exports.is_dir():
        for path in exports.rglob("*"):
            if path.is_file() and str(path) not in known:
                found.append(Leftover(path, _size(path), "an export whose row is gone"))
    runs = media / "runs"
    if runs.is_dir():
        alive = {str(pk) for pk in Run.objects.values_list("pk", flat=True)}
        for path in runs.iterdir():
            if path.is_dir() and path.name not in alive:
                found.append(Leftover(path, _size(path), "the folder of a deleted run"))
    return [leftover for leftover in found if _untouched(leftover.path, now)]


def _untouched(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > STALE_SECONDS
    except FileNotFoundError:
        return False


def rows_without_files() -> list[str]:
    """Datasets and exports whose stored file is missing, one line each."""
    missing = []
    for model in (Dataset, Export):
        for row in model.objects.exclude(file="").only("pk", "file"):
            if not Path(row.file.path).exists():
                missing.append(f"{model.__name__} {row.pk}: {row.file.name} is missing")
    return missing


def remove(leftovers: list[Leftover]) -> int:
    """Remove the leftovers; the bytes freed."""
    freed = 0
    for leftover in leftovers:
        try:
            if leftover.path.is_dir():
                shutil.rmtree(leftover.path)
            else:
                leftover.path.unlink()
        except FileNotFoundError:
            continue
        freed += leftover.bytes
    return freed


def clear_stale_partials(**_signal) -> None:
    """On a worker's start: remove the partial files crashed processes left."""
    stale = stale_partials()
    if stale:
        freed = remove(stale)
        log.info("Removed %d partial files (%.1f MB) left by crashed work", len(stale), freed / 1e6)
