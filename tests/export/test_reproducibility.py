"""Every export carries a reproducibility record, and the record is true.

train.py names the file discovery read by its SHA-256 and warns when it is given
another; the code the record gives for the holdout and the CV folds, run on the sample
PROMISE draws again, cuts exactly the rows discovery used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.automl.discovery import load_search, train_candidate
from analysis.automl.export import export_spec, source_file
from analysis.automl.folds import cv_splits, search_subset
from analysis.automl.prepare import encode_target, prepare_run
from analysis.automl.profile import profile_table
from analysis.automl.sampling import sample_table
from exporters import render_files

from .conftest import DATASETS, FRAMES, TrainedExport

WARNING = "is not the file PROMISE discovered this model on"


def record(export: TrainedExport) -> dict:
    return json.loads((export.folder / "config.json").read_text())["reproducibility"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_it_records_the_sha256_and_size_of_the_file_discovery_read(exports, dataset):
    export = exports.get("linear", dataset)
    source = exports.source(dataset).read_bytes()

    data_file = record(export)["data_file"]

    assert data_file["sha256"] == hashlib.sha256(source).hexdigest()
    assert data_file["size_bytes"] == len(source)
    assert data_file["read_options"]["delimiter"] == ","
    assert hashlib.sha256(source).hexdigest() in (export.folder / "README.md").read_text()


@pytest.mark.parametrize("dataset", DATASETS)
def test_train_warns_on_stderr_when_given_another_file_and_still_trains(exports, dataset):
    export = exports.get("linear", dataset)
    pd.read_parquet(export.run_dir / "train.parquet").to_csv(
        export.folder / "other.csv", index=False
    )

    result = export.run("train.py", "--data", "other.csv", "--out", "from_other")

    assert WARNING in result.stderr
    assert hashlib.sha256((export.folder / "other.csv").read_bytes()).hexdigest() in result.stderr
    assert WARNING not in result.stdout
    assert (export.folder / "from_other" / "MANIFEST").is_file()


def test_train_does_not_warn_for_the_file_discovery_read(exports):
    export = exports.get("linear", "regression")
    # Another name, the same bytes: the hash, not the name, tells.
    shutil.copy(exports.source("regression"), export.folder / "renamed.csv")

    result = export.run("train.py", "--data", "renamed.csv", "--out", "from_same")

    assert WARNING not in result.stderr
    assert (export.folder / "from_same" / "MANIFEST").is_file()


def test_train_says_in_one_line_when_the_file_cannot_be_read(exports, tmp_path):
    export = exports.get("linear", "regression")
    folder = tmp_path / "copy"
    shutil.copytree(export.folder, folder)

    result = subprocess.run(
        [sys.executable, "-I", "train.py", "--data", "missing.csv"],
        cwd=folder,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "missing.csv cannot be read" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def export_features(monkeypatch):
    """Import an export folder's features.py as `features`, as the record's code does."""

    def load(folder: Path):
        spec = importlib.util.spec_from_file_location("features", folder / "features.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        monkeypatch.setitem(sys.modules, "features", module)
        return module

    return load


def assert_recipe_rebuilds_the_split(
    export_record: dict,
    features,
    source: Path,
    run_dir: Path,
    plan,
    max_rows: int | None,
    family: str,
) -> None:
    """Run the record's code on the sample drawn again and compare with discovery's files.

    The sample is drawn as the record says: the same file, strategy, seed and size.
    """
    sampling = export_record["sampling"]
    sample, _ = sample_table(
        source,
        target=plan.target,
        max_rows=max_rows,
        seed=sampling["seed"],
        strategy=sampling["strategy"],
        time_column=sampling["time_column"],
    )
    names = {"sample": sample, "features": features}

    exec(export_record["rebuild_splits"], names)

    train = pd.read_parquet(run_dir / "train.parquet")
    holdout = pd.read_parquet(run_dir / "holdout.parquet")
    pd.testing.assert_frame_equal(
        names["train"].reset_index(drop=True), train, check_dtype=False, check_exact=True
    )
    pd.testing.assert_frame_equal(
        names["holdout"].reset_index(drop=True), holdout, check_dtype=False, check_exact=True
    )
    # The folds the search used, from what search.json kept, not from the record.
    search = load_search(run_dir / "candidates" / family)
    time_ordered = plan.sample.strategy == "time_based"
    y = encode_target(train[plan.target], plan)
    if search.drawn_rows is not None:
        keep = search_subset(
            y, search.drawn_rows, task=plan.task, folds=search.folds,
            time_ordered=time_ordered, seed=plan.seed,
        )  # fmt: skip
        y = y[keep]
        assert len(names["searched"]) == search.rows
    discovery_folds = cv_splits(
        y, task=plan.task, folds=search.folds, time_ordered=time_ordered, seed=plan.seed
    )
    cv = export_record["cross_validation"]
    assert len(names["folds"]) == len(discovery_folds) == cv["n_splits"]
    for (fit, valid), (fit_expected, valid_expected) in zip(
        names["folds"], discovery_folds, strict=True
    ):
        np.testing.assert_array_equal(fit, fit_expected)
        np.testing.assert_array_equal(valid, valid_expected)


@pytest.mark.parametrize("dataset", DATASETS)
def test_the_recorded_code_cuts_the_holdout_and_folds_discovery_used(
    exports, export_features, dataset
):
    export = exports.get("decision_tree", dataset)
    export_record = record(export)
    assert export_record["cross_validation"]["n_splits"] == len(export.outcome.cv_scores) > 1

    assert_recipe_rebuilds_the_split(
        export_record,
        export_features(export.folder),
        exports.source(dataset),
        export.run_dir,
        export.plan,
        max_rows=None,
        family="decision_tree",
    )


@pytest.mark.parametrize(
    ("strategy", "max_rows", "dataset", "splitter", "copies"),
    [
        ("time_based", None, "regression", "TimeSeriesSplit", 1),
        ("stratified", 120, "classification", "StratifiedKFold", 1),
        ("random", 150, "regression", "KFold", 1),
        # Many more than 2,000 training rows and too little time: a quick CV on a seeded
        # subset, to which the first rows of each class are added.
        ("random", None, "classification", "StratifiedKFold", 40),
        ("time_based", None, "regression", "TimeSeriesSplit", 7),
    ],
)
def test_the_recorded_code_holds_for_every_sampling_strategy(
    tmp_path, export_features, strategy, max_rows, dataset, splitter, copies
):
    source = tmp_path / f"{dataset}.csv"
    pd.concat([FRAMES[dataset]()] * copies, ignore_index=True).to_csv(source, index=False)
    run_dir = tmp_path / "run"
    plan = prepare_run(
        source,
        run_dir,
        profile=profile_table(source),
        target="target",
        max_rows=max_rows,
        seed=11,
        strategy=strategy,
        time_column="visited" if strategy == "time_based" else None,
    )
    outcome = train_candidate(run_dir, plan, "linear", time_limit=0.1 if copies > 1 else None)
    spec = export_spec(
        run_dir,
        "linear",
        params=outcome.params,
        metrics=outcome.metrics,
        title=strategy,
        source=source_file(source),
        cv_scores=outcome.cv_scores,
        search_rows=outcome.charts.get("search_rows"),
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in render_files(spec).items():
        (folder / name).write_text(text, encoding="utf-8")
    export_record = json.loads((folder / "config.json").read_text())["reproducibility"]
    cv = export_record["cross_validation"]
    assert (cv["splitter"], cv["quick_cv"]) == (splitter, copies > 1)
    assert cv["subset"] == (
        None if copies == 1 else "latest" if strategy == "time_based" else "seeded"
    )
    if cv["subset"] == "seeded":
        assert cv["rows"] > cv["drawn_rows"]

    assert_recipe_rebuilds_the_split(
        export_record, export_features(folder), source, run_dir, plan, max_rows, "linear"
    )
