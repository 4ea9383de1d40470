"""Code exports: a trained candidate's files rendered for the page, and its zip, built once."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from django.core.files.base import File
from django.db import transaction

from .. import audit
from ..automl.fitted import ModelFormatError
from ..models import CandidateResult, Dataset, Export
from ..refusals import ServiceError
from ..storage import dataset_file, run_folder


def export_files(*, candidate: CandidateResult) -> dict[str, str]:
    """The text files of the candidate's export, rendered, for previews."""
    from exporters import render_files

    with _inputs(candidate) as (source, folder):
        return render_files(_export_spec(candidate, source, folder))


@contextmanager
def _inputs(candidate: CandidateResult) -> Iterator[tuple[Path, Path]]:
    """The dataset's file and the run's folder on this machine (file_store)."""
    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise ServiceError("Only a trained candidate can be exported.")
    with dataset_file(candidate.run.dataset) as source, run_folder(candidate.run) as folder:
        yield source, folder


def _export_spec(candidate: CandidateResult, data: Path, folder: Path):
    from ..automl.export import export_spec, source_file

    run = candidate.run
    dataset = run.dataset
    source = source_file(
        data,
        name=dataset.name,
        sha256=dataset.sha256,
        size_bytes=dataset.size_bytes or None,
        source_info=(dataset.profile or {}).get("source"),
        overrides=dataset.read_options,
    )
    if not dataset.sha256:
        # Profiled before hashes were kept: source_file hashed the file now; keep it.
        Dataset.objects.filter(pk=dataset.pk, sha256="").update(sha256=source.sha256)
    try:
        return export_spec(
            folder,
            candidate.name,
            params=candidate.params,
            metrics=candidate.metrics,
            title=f"{candidate.label} for {run.target!r} on {dataset.name}",
            fit_seconds=candidate.fit_seconds,
            source=source,
            # Older candidates kept their fold scores in the chart data only.
            cv_scores=candidate.cv_scores or candidate.charts.get("cv_scores"),
            search_rows=candidate.charts.get("search_rows"),
        )
    except ModelFormatError as error:  # saved by an earlier PROMISE: the sentence says why
        raise ServiceError(str(error)) from error


def export_build(*, candidate: CandidateResult) -> Export:
    """The candidate's code export as a stored zip: built the first time it is asked for,
    then the same zip again for as long as what it is made of stays the same (a second
    round that improves the model, or other reading options, make a new one)."""
    from exporters import build_bundle

    with _inputs(candidate) as (source, folder):
        spec = _export_spec(candidate, source, folder)
        digest = _contents_sha256(asdict(spec))
        stored = candidate.exports.filter(contents_sha256=digest).first()
        if stored is not None and stored.file.storage.exists(stored.file.name):
            audit.record(audit.AuditEntry.Action.EXPORT, user=candidate.run.owner, target=stored)
            return stored
        run = candidate.run
        # Built outside the run's folder, which is not the place of a file being stored.
        with tempfile.TemporaryDirectory(prefix="promise-export-") as scratch:
            zip_path = Path(scratch) / f"promise-run{run.pk}-{candidate.name}.zip"
            build_bundle(spec, zip_path)
            export = Export(owner=run.owner, candidate=candidate, contents_sha256=digest)
            with zip_path.open("rb") as handle:
                export.file.save(zip_path.name, File(handle), save=True)
    audit.record(audit.AuditEntry.Action.EXPORT, user=run.owner, target=export)
    return export


@transaction.atomic
def export_delete(*, export: Export) -> None:
    """Delete an export's row and, once that is committed, its zip."""
    storage, name = export.file.storage, export.file.name
    audit.record(audit.AuditEntry.Action.DELETE, user=export.owner, target=export)
    export.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def export_rebuild(*, export: Export) -> Export:
    """Build the candidate's zip again from its current model and data, replacing this
    one (its file too)."""
    candidate = export.candidate
    export_delete(export=export)
    return export_build(candidate=candidate)


def _contents_sha256(spec: dict) -> str:
    """SHA-256 of what an export zip is made of: the spec, except the moment it was made,
    and the bytes of the model files it ships."""
    digest = hashlib.sha256()
    spec = {key: value for key, value in spec.items() if key != "generated_at"}
    digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
    for path in map(Path, spec.get("model_files", [])):
        with path.open("rb") as handle:
            digest.update(f"\n{path.name}:".encode())
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
