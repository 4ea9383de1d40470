"""Describe one trained candidate of a run folder for the code export, as an `ExportSpec`.

The spec is plain data: the exporter (`exporters/`) renders it into code without
importing anything from here. The model's code comes from the candidate's own
`export_code`; a stock estimator's from its `estimator_spec`, the single source the
platform trains from too, so the exported train.py constructs exactly the estimator
PROMISE trained.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
import tempfile
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from exporters.spec import ExportSpec, SampleFacts, SourceFile, SplitFacts

from .candidates import CANDIDATES, get_candidate
from .discovery import load_search
from .fingerprint import file_sha256
from .fitted import META_FILE, FittedModel, read_meta
from .ingest import CSV, IngestOptions, describe_source
from .metrics import METRIC_LABELS
from .prepare import HOLDOUT_SHARE, RunPlan
from .preprocess import DATETIME_PARTS, MAX_CATEGORIES, MISSING_CATEGORY, TARGET_ENCODING_FOLDS
from .problem import REGRESSION
from .sampling import TIME_BASED

# Every export needs these; a family adds its own (`Candidate.packages`). Each entry
# lists the names a package may be installed under, the preferred first.
BASE_PACKAGES = (("numpy",), ("pandas",), ("scikit-learn",), ("joblib",), ("pyarrow",))
# Recorded, not pinned: the libraries discovery itself ran on, as installed here (with
# every registered family's own packages between these and the search's).
DISCOVERY_PACKAGES = (("numpy",), ("pandas",), ("pyarrow",), ("scikit-learn",))
SEARCH_PACKAGES = (("optuna",),)
# The reading settings detection settles (ingest.SourceInfo), in the order a README lists them.
READ_SETTINGS = ("format", "compression", "encoding", "delimiter", "decimal", "sheet")


def export_spec(
    run_dir: Path,
    name: str,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    title: str,
    fit_seconds: float | None = None,
    generated_at: dt.datetime | None = None,
    source: SourceFile | None = None,
    cv_scores: list[float] | None = None,
    search_rows: int | None = None,
) -> ExportSpec:
    """The ExportSpec of candidate `name` trained in `run_dir`.

    `params` and `metrics` are the candidate's outcome (`CandidateOutcome.params` and
    `.metrics`); the model files are read from `run_dir/candidates/<name>/`.
    `source` is the uploaded file (see `source_file`). The CV folds are read from the
    candidate's search.json; for candidates trained before it was kept, `cv_scores`
    (the chosen parameters' fold scores, empty when fitted without CV) and
    `search_rows` (`charts["search_rows"]`) stand in, and the record says "not
    recorded" for what neither gives.
    Raises FileNotFoundError when the candidate's model files are missing.
    """
    run_dir = Path(run_dir)
    plan = RunPlan.load(run_dir)
    candidate = get_candidate(name)
    model_dir = run_dir / "candidates" / name
    meta = json.loads(_existing(model_dir / "model.json").read_text())
    if meta["family"] != name:
        raise ValueError(f"{model_dir} holds a {meta['family']} model, not {name}.")
    files = shipped_files(model_dir, candidate)
    model_file = files[-1]
    # Our own file, written from the Pipeline PROMISE saved; user uploads are never unpickled.
    preprocessor = joblib.load(files[1])
    # By name: the database may hand the parameters back in any order (jsonb does), and
    # the same model must render to the same files.
    params = {key: _plain(params[key]) for key in sorted(params)}
    features = plan.features
    model_inputs = len(preprocessor.get_feature_names_out())
    return ExportSpec(
        title=title,
        family=name,
        family_label=candidate.label,
        task=plan.task,
        target=plan.target,
        metric=plan.metric,
        score=float(metrics[plan.metric]),
        metrics={key: float(value) for key, value in metrics.items()},
        metric_labels={key: METRIC_LABELS.get(key, key) for key in metrics},
        classes=plan.classes,
        numeric=list(features.numeric),
        categorical=list(features.categorical),
        datetime=list(features.datetime),
        dropped=dict(features.dropped),
        datetime_parts=list(DATETIME_PARTS),
        max_categories=MAX_CATEGORIES,
        missing_category=MISSING_CATEGORY,
        seed=plan.seed,
        sample=SampleFacts(
            strategy=plan.sample.strategy,
            sample_rows=plan.sample.sample_rows,
            total_rows=plan.sample.total_rows,
            usable_rows=plan.sample.usable_rows,
            train_rows=plan.train_rows,
            holdout_rows=plan.holdout_rows,
            time_column=plan.sample.time_column,
        ),
        splits=_split_facts(run_dir, plan, model_dir, cv_scores, search_rows),
        model_inputs=model_inputs,
        model_files=[str(path) for path in files],
        model_bytes=model_file.stat().st_size,
        packages=_package_versions(candidate.packages),
        python_version=platform.python_version(),
        discovery_packages=_installed_versions(_discovery_packages()),
        generated_at=(generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        code=candidate.export_code(
            params, task=plan.task, seed=plan.seed, model_inputs=model_inputs
        ),
        model_file=candidate.model_file,
        fit_time_note=candidate.fit_time_note,
        model_size_note=candidate.model_size_note,
        fit_seconds=fit_seconds,
        high_cardinality=list(features.high_cardinality),
        target_encoding_folds=TARGET_ENCODING_FOLDS,
        source=source,
    )


def source_file(
    path: Path,
    *,
    name: str | None = None,
    sha256: str = "",
    size_bytes: int | None = None,
    source_info: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> SourceFile:
    """The record of the uploaded file at `path` that discovery read.

    `sha256` and `size_bytes` are the stored ones; each is read from the file when not
    given (the hash in blocks, see fingerprint.py).
    `overrides` are the user's reading options (`IngestOptions` fields) and
    `source_info` what detection found with them (the profile's `source`), detected
    again from the head of the file when not given.
    """
    path = Path(path)
    overrides = dict(overrides or {})
    options = IngestOptions(**overrides)
    if source_info is None:
        source_info = describe_source(path, options).to_dict()
    read_options = {key: source_info.get(key) for key in READ_SETTINGS}
    if read_options["format"] == CSV:
        read_options["header_row"] = options.header_row
    return SourceFile(
        name=name or path.name,
        size_bytes=path.stat().st_size if size_bytes is None else size_bytes,
        sha256=sha256 or file_sha256(path),
        read_options=read_options,
        overrides=overrides,
        renamed=dict(source_info.get("renamed") or {}),
    )


def _split_facts(
    run_dir: Path,
    plan: RunPlan,
    model_dir: Path,
    cv_scores: list[float] | None,
    search_rows: int | None,
) -> SplitFacts:
    """How prepare.prepare_run cut the holdout and folds.py the candidate's CV folds."""
    time_ordered = plan.sample.strategy == TIME_BASED
    if time_ordered:
        holdout = "latest"
    else:
        holdout = "random" if plan.task == REGRESSION else "stratified"
    facts = SplitFacts(holdout=holdout, holdout_share=HOLDOUT_SHARE)
    try:
        search = load_search(model_dir)
    except FileNotFoundError:
        # Trained before search.json was kept: what the caller knows stands in.
        if cv_scores is None:
            return facts
        folds, rows, drawn, quick = len(cv_scores), search_rows, None, False
    else:
        cv_scores, rows, drawn, quick = (
            search.cv_scores,
            search.rows,
            search.drawn_rows,
            search.quick_cv,
        )
        folds = search.folds if cv_scores else 0
    if not folds:
        return replace(facts, cv_splitter="", cv_folds=0)
    # Searches recorded before their rows were kept used every training row.
    rows = rows or plan.train_rows
    if drawn is None and (time_ordered or plan.task == REGRESSION):
        drawn = rows  # nothing is added to a subset without classes
    if time_ordered:
        splitter = "TimeSeriesSplit"
    elif plan.task == REGRESSION:
        splitter = "KFold"
    else:
        # folds.cv_splits stratifies when some class has a row for every fold. A search
        # on a subset keeps `folds` rows of each class, so the training part tells.
        target = pd.read_parquet(run_dir / "train.parquet", columns=[plan.target])[plan.target]
        splitter = "StratifiedKFold" if target.value_counts().max() >= folds else "KFold"
    return replace(
        facts,
        cv_splitter=splitter,
        cv_folds=folds,
        cv_rows=rows,
        cv_scores=[float(score) for score in cv_scores],
        cv_drawn=drawn if rows < plan.train_rows else None,
        quick_cv=quick,
    )


def _discovery_packages() -> tuple[tuple[str, ...], ...]:
    families = [names for c in CANDIDATES for names in c.packages]
    return (*DISCOVERY_PACKAGES, *dict.fromkeys(families), *SEARCH_PACKAGES)


def _package_versions(family_packages: tuple[tuple[str, ...], ...]) -> dict[str, str]:
    wanted = (*BASE_PACKAGES, *family_packages)
    versions = _installed_versions(wanted)
    for names in wanted:
        if not any(package in versions for package in names):
            raise RuntimeError(f"{names[0]} is not installed, so its version cannot be pinned.")
    return versions


def _installed_versions(packages: tuple[tuple[str, ...], ...]) -> dict[str, str]:
    # Each entry lists the names a package may be installed under; the first found counts.
    versions = {}
    for names in packages:
        for package in names:
            try:
                versions[package] = metadata.version(package)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def shipped_files(model_dir: Path, candidate) -> list[Path]:
    """model.json, preprocessor.joblib and the estimator's own file (`model_file`): the
    model as the export ships it, for scripts that load it with stock libraries only.

    Written from the saved Pipeline the first time an export asks, into a folder named
    by the artifact's checksum, then read again: the same model ships the same bytes
    (a Keras file records when it was saved), so the same export is the same zip.
    """
    meta = read_meta(model_dir)
    folder = model_dir / f"export-{meta['sha256'][:16]}"
    if not folder.is_dir():
        model = FittedModel.load(model_dir)
        for stale in model_dir.glob("export-*"):  # of a model since trained again
            shutil.rmtree(stale, ignore_errors=True)
        partial = Path(tempfile.mkdtemp(prefix=".export-", dir=model_dir))
        described = {key: meta[key] for key in ("family", "task", "target", "classes")}
        described["features"] = meta["features"]
        (partial / META_FILE).write_text(json.dumps(described, indent=2) + "\n")
        joblib.dump(model.preprocessor, partial / "preprocessor.joblib")
        candidate.save_export(model.estimator, partial)
        try:
            partial.rename(folder)
        except OSError:  # another export wrote it meanwhile
            shutil.rmtree(partial, ignore_errors=True)
    return [folder / META_FILE, folder / "preprocessor.joblib", folder / candidate.model_file]


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"The model file {path} is missing; train the candidate again.")
    return path


def _plain(value: Any) -> Any:
    # NumPy scalars from a search become the Python numbers the export writes as literals.
    return value.item() if hasattr(value, "item") else value
