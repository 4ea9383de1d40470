"""What a crash or a deletion can leave on disk, found and removed.

Partial files: whatever is being written is named ``….<host>-<pid>.partial``
(ingest/scratch.py), so one left by a killed process is recognised. A worker removes
those of dead processes of its machine when it starts (Celery's ``worker_ready``); those
of other machines, or older than STALE_SECONDS whoever wrote them, go too.

Orphans both ways, for ``manage.py cleanup``: stored files (under MEDIA_ROOT, or in the
bucket on S3) that no row points to (an upload whose dataset is gone, a Parquet copy
whose upload is gone, a run's folder whose run is gone, an export or scored file whose
row is gone, the unfinished uploads of a deleted user), and rows whose files are gone (a
dataset or export whose file is missing, a scored file's job, a sampled run whose folder
is gone). Those rows are deleted through the delete services, so what is left of their
files goes too; nothing is deleted when a local MEDIA_ROOT itself is missing (an
unmounted disk is not a loss of files).
"""

from __future__ import annotations

import logging
import posixpath
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth import get_user_model

from . import file_store
from .automl.ingest.scratch import PARTIAL_SUFFIX, partial_owner, writer_is_gone
from .models import BatchPrediction, Dataset, Export, Run
from .storage import run_prefix
from .uploads import uploads_dir

log = logging.getLogger(__name__)

# A partial file nobody has written to for this long is abandoned, whoever wrote it (a
# live writer adds to it every few seconds).
STALE_SECONDS = 3600
# A Parquet copy beside an upload (ingest/parquet_copy.py): ".<upload name>.<digest>.parquet".
_COPY_NAME = re.compile(r"^\.(?P<source>.+)\.[0-9a-f]{12}\.parquet$")


@dataclass(frozen=True)
class Leftover:
    path: Path  # on object storage: the stored name (a PurePosixPath)
    bytes: int
    why: str
    stored: bool = False


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

    On object storage (S3) the same rules walk the stored names (`_stored_orphans`).

    The age spares a file whose row is not committed yet: an upload is moved into place
    inside the transaction that creates its dataset, and is invisible here until then.
    """
    now = time.time() if now is None else now
    if not file_store.is_local():
        return _stored_orphans(now)
    media = Path(settings.MEDIA_ROOT)
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
    scored = {
        str(media / name)
        for field in ("input_file", "result_file")
        for name in BatchPrediction.objects.exclude(**{field: ""}).values_list(field, flat=True)
    }
    predictions = media / "predictions"
    if predictions.is_dir():
        for path in predictions.rglob("*"):
            if path.is_file() and str(path) not in scored:
                found.append(Leftover(path, _size(path), "a scored file whose job is gone"))
    uploads = uploads_dir()
    if uploads.is_dir():
        users = {str(pk) for pk in get_user_model().objects.values_list("pk", flat=True)}
        for path in uploads.iterdir():
            if path.is_dir() and path.name not in users:
                found.append(Leftover(path, _size(path), "the uploads of a deleted user"))
    runs = media / "runs"
    if runs.is_dir():
        alive = {str(pk) for pk in Run.objects.values_list("pk", flat=True)}
        for path in runs.iterdir():
            if path.is_dir() and path.name not in alive:
                found.append(Leftover(path, _size(path), "the folder of a deleted run"))
    return [leftover for leftover in found if _untouched(leftover.path, now)]


_STORED_KINDS = (
    ("datasets", "an upload whose dataset is gone"),
    ("exports", "an export whose row is gone"),
    ("predictions", "a scored file whose job is gone"),
)


def _stored_orphans(now: float) -> list[Leftover]:
    """`orphan_files` on object storage: stored names no row points to, and run
    folders (prefixes) of deleted runs, whose newest object is older than STALE_SECONDS."""
    store = file_store.storage()
    known = {
        name
        for model, fields in ((Dataset, ("file",)), (Export, ("file",)),
                              (BatchPrediction, ("input_file", "result_file")))
        for field in fields
        for name in model.objects.exclude(**{field: ""}).values_list(field, flat=True)
    }  # fmt: skip
    found = []
    for prefix, why in _STORED_KINDS:
        for name in file_store.walk(prefix):
            if name in known or name.endswith(PARTIAL_SUFFIX):
                continue
            folder, base = posixpath.split(name)
            if prefix == "datasets" and (copy := _COPY_NAME.match(base)):
                if store.exists(f"{folder}/{copy['source']}"):
                    continue
                found.append(_stored([name], "a Parquet copy of a deleted upload"))
            else:
                found.append(_stored([name], why))
    alive = {str(pk) for pk in Run.objects.values_list("pk", flat=True)}
    for run in store.listdir("runs")[0]:
        if run not in alive:
            names = list(file_store.walk(f"runs/{run}"))
            found.append(_stored(names, "the folder of a deleted run", f"runs/{run}"))
    return [leftover for leftover, newest in found if now - newest > STALE_SECONDS]


def _stored(names: list[str], why: str, prefix: str = "") -> tuple[Leftover, float]:
    """A leftover of stored names (one file, or a run's folder), with its newest time."""
    store = file_store.storage()
    size = sum(store.size(name) for name in names)
    newest = max((store.get_modified_time(name).timestamp() for name in names), default=0.0)
    path = PurePosixPath(prefix or names[0])
    return Leftover(path, size, why, stored=True), newest


def _untouched(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > STALE_SECONDS
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class MissingFile:
    row: object  # a Dataset, Run, Export or BatchPrediction
    why: str

    def __str__(self) -> str:
        return f"{type(self.row).__name__} {self.row.pk}: {self.why}"


def rows_missing_files() -> list[MissingFile]:
    """Rows whose stored files are gone: datasets, exports and scoring jobs whose file is
    missing, and sampled runs whose folder is missing. None when MEDIA_ROOT is missing."""
    if file_store.is_local() and not Path(settings.MEDIA_ROOT).is_dir():
        return []
    exists = file_store.storage().exists
    found = []
    for model in (Dataset, Export):
        for row in model.objects.exclude(file="").only("pk", "file"):
            if not exists(row.file.name):
                found.append(MissingFile(row, f"{row.file.name} is missing"))
    for batch in BatchPrediction.objects.all():
        for field in (batch.input_file, batch.result_file):
            if field and not exists(field.name):
                found.append(MissingFile(batch, f"{field.name} is missing"))
                break
    sampled = Run.objects.exclude(status__in=Run.ACTIVE).exclude(plan=None).only("pk")
    for run in sampled:
        if not file_store.folder_exists(run_prefix(run.pk)):
            found.append(MissingFile(run, f"its folder runs/{run.pk} is missing"))
    return found


def rows_without_files() -> list[str]:
    """Rows whose stored files are missing, one line each."""
    return [str(missing) for missing in rows_missing_files()]


def remove_rows(missing: list[MissingFile]) -> int:
    """Delete rows whose files are gone, through the delete services; how many went."""
    from . import services

    deleters = {
        Dataset: lambda row: services.dataset_delete(dataset=row),
        Run: lambda row: services.run_delete(run=row),
        Export: lambda row: services.export_delete(export=row),
        BatchPrediction: lambda row: services.batch_delete(batch=row),
    }
    removed = 0
    for item in missing:
        row = type(item.row).objects.filter(pk=item.row.pk).first()
        if row is not None:  # not gone already with a dataset or run removed before it
            deleters[type(row)](row)
            removed += 1
    return removed


def remove(leftovers: list[Leftover]) -> int:
    """Remove the leftovers; the bytes freed."""
    freed = 0
    for leftover in leftovers:
        if leftover.stored:
            file_store.storage().delete(str(leftover.path))  # a file; nothing for a folder
            file_store.delete_prefix(str(leftover.path))  # a run's folder
            freed += leftover.bytes
            continue
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
