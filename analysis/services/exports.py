"""Code exports: a trained candidate's files rendered for the page, and its zip."""

from __future__ import annotations

from django.core.files.base import File

from ..models import CandidateResult, Dataset, Export
from ..storage import dataset_path, run_dir
from .errors import ServiceError


def export_files(*, candidate: CandidateResult) -> dict[str, str]:
    """The text files of the candidate's export, rendered, for previews."""
    from exporters import render_files

    return render_files(_export_spec(candidate))


def _export_spec(candidate: CandidateResult):
    from ..automl.export import export_spec, source_file

    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise ServiceError("Only a trained candidate can be exported.")
    run = candidate.run
    dataset = run.dataset
    source = source_file(
        dataset_path(dataset),
        name=dataset.name,
        sha256=dataset.sha256,
        size_bytes=dataset.size_bytes or None,
        source_info=(dataset.profile or {}).get("source"),
        overrides=dataset.read_options,
    )
    if not dataset.sha256:
        # Profiled before hashes were kept: source_file hashed the file now; keep it.
        Dataset.objects.filter(pk=dataset.pk, sha256="").update(sha256=source.sha256)
    return export_spec(
        run_dir(run),
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


def export_build(*, candidate: CandidateResult) -> Export:
    """Render the candidate's code export into a zip and store it."""
    from exporters import build_bundle

    spec = _export_spec(candidate)
    run = candidate.run
    zip_path = run_dir(run) / "exports" / f"promise-run{run.pk}-{candidate.name}.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    build_bundle(spec, zip_path)
    export = Export(owner=run.owner, candidate=candidate)
    with zip_path.open("rb") as handle:
        export.file.save(zip_path.name, File(handle), save=True)
    zip_path.unlink()
    return export
