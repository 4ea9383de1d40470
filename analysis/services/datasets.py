"""Datasets: storing an upload, profiling it, reading it again, deleting it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from .. import audit, deployments, limits, workflow
from ..automl.errors import UserFacingError
from ..automl.ingest import IngestOptions, remove_normalized
from ..automl.ingest.limits import ReadAbandoned, guarded
from ..automl.profile import profile_table
from ..failures import record_traceback
from ..models import Dataset
from ..read_limits import limits_from_settings
from ..refusals import UNEXPECTED_ERROR, ServiceError
from ..storage import dataset_file, stored_file_name, upload_name
from .files import remove_files, stored_files
from .runs import run_cancel

log = logging.getLogger(__name__)

# Celery's limit, a backstop for time spent outside the read's own clock checks.
TOO_LONG = (
    "Reading the file took longer than {minutes:,.0f} minutes, the limit for reading one "
    "file: upload a smaller part of it, or save it as Parquet, which reads faster."
)


def dataset_upload(*, owner, uploaded_file: UploadedFile) -> Dataset:
    """Store an upload (copied in chunks, never read whole) and queue its profiling."""
    name = upload_name(uploaded_file.name)
    with transaction.atomic():
        _check_upload(owner, uploaded_file.size)
        dataset = Dataset.objects.create(owner=owner, name=name, size_bytes=uploaded_file.size)
        dataset.file.save(stored_file_name(name), File(uploaded_file), save=True)
        audit.record(audit.AuditEntry.Action.UPLOAD, user=owner, target=dataset)
        transaction.on_commit(lambda: workflow.send_profile(dataset.pk))
    return dataset


NAME_LENGTH = Dataset._meta.get_field("name").max_length


def dataset_rename(*, dataset: Dataset, name: str) -> Dataset:
    """Give a dataset the name the user chose (the stored file keeps its own)."""
    if not isinstance(name, str):
        raise ServiceError("Send the dataset's new name as text.")
    name = name.strip()
    if not name:
        raise ServiceError("Give the dataset a name: it cannot be empty.")
    if len(name) > NAME_LENGTH:
        raise ServiceError(f"A dataset's name has at most {NAME_LENGTH} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ServiceError("A dataset's name cannot hold line breaks, tabs or other controls.")
    dataset.name = name
    dataset.save(update_fields=["name"])
    return dataset


def _check_upload(owner, size: int) -> None:
    """Refuse an empty file, or one over the owner's limits (under a lock on their row,
    so two uploads at once cannot both pass the quota)."""
    if size == 0:
        raise ServiceError("The file is empty: choose a table with a header row and data rows.")
    limits.lock_user(owner.pk)
    limits.check_upload(owner.pk, size)


def dataset_create_from_path(*, owner, path: Path, name: str | None = None) -> Dataset:
    """Store a file already on the server's disk (example datasets, the CLI) like an upload."""
    with path.open("rb") as handle:
        upload = File(handle, name=name or path.name)
        upload.size = path.stat().st_size
        return dataset_upload(owner=owner, uploaded_file=upload)


def dataset_create_from_upload(*, owner, path: Path, name: str) -> Dataset:
    """Make a finished chunked upload a dataset and queue its profiling.

    On local storage the file is renamed into the datasets folder, so a file of many
    GB is written once; other storages (S3) get it streamed by `File.save`.
    """
    size = path.stat().st_size
    name = upload_name(name)
    with transaction.atomic():
        _check_upload(owner, size)
        dataset = Dataset.objects.create(owner=owner, name=name, size_bytes=size)
        audit.record(audit.AuditEntry.Action.UPLOAD, user=owner, target=dataset)
        storage = dataset.file.storage
        stored_name = storage.get_available_name(
            dataset.file.field.generate_filename(dataset, stored_file_name(name)),
            max_length=dataset.file.field.max_length,
        )
        try:
            destination = Path(storage.path(stored_name))
        except NotImplementedError:
            with path.open("rb") as handle:
                dataset.file.save(stored_file_name(name), File(handle), save=True)
            path.unlink()
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, destination)  # a rename when both are on one filesystem
            dataset.file.name = stored_name
            dataset.save(update_fields=["file"])
        transaction.on_commit(lambda: workflow.send_profile(dataset.pk))
    return dataset


def dataset_profile(*, dataset_id: int) -> None:
    """Profile the dataset's file and store the profile and the file's SHA-256, or the
    reason it cannot be read."""
    claimed = Dataset.objects.filter(
        pk=dataset_id, status__in=[Dataset.Status.UPLOADED, Dataset.Status.PROFILING]
    ).update(status=Dataset.Status.PROFILING, error="")
    if not claimed:
        return
    dataset = Dataset.objects.get(pk=dataset_id)
    # The Parquet copy profiling writes is stored beside the file for sampling to read.
    with dataset_file(dataset, store_copies=True) as source:
        _profile(dataset, source)


def _profile(dataset: Dataset, source: Path) -> None:
    from ..automl.fingerprint import file_sha256

    dataset_id = dataset.pk
    # The read stops within a second once the dataset is deleted (`dataset_delete`).
    wanted = Dataset.objects.filter(pk=dataset_id).exists
    try:
        with guarded(limits_from_settings(), still_wanted=wanted) as guard:
            profile = profile_table(source, options=IngestOptions(**dataset.read_options))
            guard.check()
        # The stored file never changes, so a re-read with other options keeps its hash.
        sha256 = dataset.sha256 or file_sha256(source)
    except ReadAbandoned:
        log.info("Dataset %s was deleted while it was read: reading stopped", dataset_id)
        remove_normalized(source)
        return
    except SoftTimeLimitExceeded:
        _dataset_failed(
            dataset_id, TOO_LONG.format(minutes=settings.PROMISE_MAX_PROFILE_SECONDS / 60)
        )
        return
    except UserFacingError as exc:
        _dataset_failed(dataset_id, str(exc))
        return
    except Exception:
        log.exception("Profiling dataset %s failed", dataset_id)
        record_traceback(dataset_id=dataset_id)
        _dataset_failed(dataset_id, UNEXPECTED_ERROR.format(doing="reading the file"))
        return
    stored = Dataset.objects.filter(pk=dataset_id).update(
        status=Dataset.Status.READY,
        profile=profile.to_dict(),
        row_count=profile.rows,
        column_count=len(profile.columns),
        sha256=sha256,
    )
    if not stored:  # deleted as the read ended: its copy would be nobody's
        remove_normalized(source)


def _dataset_failed(dataset_id: int, message: str) -> None:
    Dataset.objects.filter(pk=dataset_id).update(status=Dataset.Status.FAILED, error=message)


@transaction.atomic
def dataset_reprofile(*, dataset: Dataset, options: dict) -> Dataset:
    """Read the stored file again with the user's overrides (delimiter, encoding, …)."""
    if dataset.status == Dataset.Status.PROFILING:
        raise ServiceError("The file is being read right now; wait for the result first.")
    try:
        IngestOptions(**options)
    except TypeError as exc:
        raise ServiceError("Those reading options are not understood.") from exc
    Dataset.objects.filter(pk=dataset.pk).update(
        read_options=options, status=Dataset.Status.UPLOADED, error="", profile=None
    )
    transaction.on_commit(lambda: workflow.send_profile(dataset.pk))
    dataset.refresh_from_db()
    return dataset


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset with its runs, their models and their exports.

    A run still going is cancelled first (its worker processes stopped, as `run_cancel`
    does) rather than left running on files about to go; the files go only once the rows
    are gone (on commit), so a failure on the way leaves the dataset whole.
    """
    runs = list(dataset.runs.all())
    for run in runs:
        if run.is_active:
            run_cancel(run=run)
    runs = [run.pk for run in runs]
    name = dataset.file.name
    stored = stored_files(run__dataset=dataset)
    deployments.forget_numbers_of_runs(runs)
    audit.record(audit.AuditEntry.Action.DELETE, user=dataset.owner, target=dataset)
    dataset.delete()
    transaction.on_commit(lambda: remove_files(runs, name, stored))
