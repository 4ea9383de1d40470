"""The files rows own, and removing them once the rows are gone: deleting anything
removes what it stored (run folders, uploads and their copies, export zips, scored
files)."""

from __future__ import annotations

from django.core.files.storage import Storage
from django.db import transaction

from .. import audit, file_store
from ..models import BatchPrediction, Export
from ..storage import dataset_delete_files, run_prefix


def stored_files(**candidate_filter) -> list[tuple[Storage, str]]:
    """The stored files of the exports and scored files of the candidates matching
    `candidate_filter` (a filter on CandidateResult, e.g. run=run)."""
    found: list[tuple[Storage, str]] = []
    scope = {f"candidate__{key}": value for key, value in candidate_filter.items()}
    for export in Export.objects.filter(**scope):
        found.append((export.file.storage, export.file.name))
    for batch in BatchPrediction.objects.filter(**scope):
        found += [(f.storage, f.name) for f in (batch.input_file, batch.result_file) if f]
    return found


def remove_files(
    runs: list[int], dataset_file: str | None, stored: list[tuple[Storage, str]]
) -> None:
    """Remove run folders (by run id), a dataset's file with its Parquet copies and stored
    files; called on commit, once the rows that pointed at them are gone."""
    for run_id in runs:
        file_store.delete_prefix(run_prefix(run_id))
    if dataset_file:
        dataset_delete_files(dataset_file)
    for storage, name in stored:
        if name:
            storage.delete(name)


@transaction.atomic
def batch_delete(*, batch: BatchPrediction) -> None:
    """Delete a file-scoring job with its uploaded and scored files."""
    stored = [(f.storage, f.name) for f in (batch.input_file, batch.result_file) if f]
    audit.record(audit.AuditEntry.Action.DELETE, user=batch.owner, target=batch)
    batch.delete()
    transaction.on_commit(lambda: remove_files([], None, stored))
