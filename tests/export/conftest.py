"""Discovery runs and their rendered exports, trained once per session and shared.

Each dataset is a small scikit-learn table plus a category with missing values, one of
30 values (target-encoded) and a date column in mixed formats, so every kind of feature
goes through the export. Each
export is unzipped into its own empty folder, with the run's holdout beside it as CSV.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from analysis.automl.candidates import CANDIDATES
from analysis.automl.discovery import CandidateOutcome, train_candidate
from analysis.automl.export import export_spec, source_file
from analysis.automl.prepare import RunPlan, prepare_run
from analysis.automl.profile import profile_table
from exporters import build_bundle
from exporters.spec import ExportSpec

FAMILIES = [candidate.name for candidate in CANDIDATES]
# Families whose training gives the same model every time (Keras on CPU does not).
DETERMINISTIC = [family for family in FAMILIES if family != "lstm"]
DATASETS = ["regression", "classification", "binary"]
# The LSTM trains for a few seconds only; enough to learn something, quick to test.
LSTM_SECONDS = 2.0
SCRIPT_TIMEOUT = 300
# Rows per chunk when evaluating the holdout: small, so the holdout is several chunks.
EVAL_CHUNK = "7"


@dataclass(eq=False)
class TrainedExport:
    """One candidate trained by the platform, and its export unzipped in an empty folder."""

    family: str
    dataset: str
    run_dir: Path
    plan: RunPlan
    outcome: CandidateOutcome
    spec: ExportSpec
    zip_path: Path
    arcnames: list[str]
    folder: Path

    @property
    def deterministic(self) -> bool:
        return self.family != "lstm"

    @property
    def holdout(self) -> pd.DataFrame:
        return pd.read_parquet(self.run_dir / "holdout.parquet")

    def run(self, *args: str | Path) -> subprocess.CompletedProcess:
        """Run one of the export's scripts the way a user would, isolated from this project."""
        return run_script(self.folder, *args)

    @functools.cached_property
    def evaluation(self) -> dict:
        """The JSON line of evaluate.py over holdout.csv read in chunks of 7 rows."""
        result = self.run("evaluate.py", "--data", "holdout.csv", "--chunksize", EVAL_CHUNK)
        return json.loads(result.stdout.strip().splitlines()[-1])


def run_script(folder: Path, script: str, *args: str | Path) -> subprocess.CompletedProcess:
    """`python -I script args` in `folder`; fails the test, with stderr, when it fails."""
    result = subprocess.run(
        [sys.executable, "-I", script, *map(str, args)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result


def regression_frame() -> pd.DataFrame:
    """Diabetes progression, with categories and a date column, with gaps."""
    frame = load_diabetes(as_frame=True).frame
    return with_category_and_date(frame, seed=1)


def classification_frame() -> pd.DataFrame:
    """Wine cultivars with text labels, with categories and a date column, with gaps."""
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    return with_category_and_date(frame, seed=2)


def binary_frame() -> pd.DataFrame:
    """Breast tumours, malignant or benign as text, with categories and a date column."""
    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    return with_category_and_date(frame, seed=3)


def with_category_and_date(frame: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = len(frame)
    colours = rng.choice(["red", "blue", "green", "violet"], rows).astype(object)
    colours[rng.random(rows) < 0.1] = None
    frame.insert(0, "colour", colours)
    # Too many values for one column each: target-encoded.
    frame.insert(1, "shop", [f"shop {n}" for n in rng.integers(0, 30, rows)])
    moments = pd.Timestamp("2021-03-01") + pd.to_timedelta(rng.integers(0, 20_000, rows), "h")
    # Mixed formats, as real files have them; prepare_frame parses each one.
    text = np.where(
        rng.random(rows) < 0.5,
        moments.strftime("%Y-%m-%d %H:%M"),
        moments.strftime("%d %B %Y, %H:%M:%S"),
    ).astype(object)
    text[rng.random(rows) < 0.05] = None
    frame.insert(1, "visited", text)
    return frame


FRAMES = {
    "regression": regression_frame,
    "classification": classification_frame,
    "binary": binary_frame,
}


class ExportFactory:
    """Prepares each dataset's run once and trains each family on it once, on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.plans: dict[str, RunPlan] = {}
        self.exports: dict[tuple[str, str], TrainedExport] = {}

    def source(self, dataset: str) -> Path:
        """The CSV file the dataset's run discovered on."""
        return self.root / f"{dataset}.csv"

    def plan(self, dataset: str) -> RunPlan:
        if dataset not in self.plans:
            source = self.source(dataset)
            FRAMES[dataset]().to_csv(source, index=False)
            self.plans[dataset] = prepare_run(
                source,
                self.root / dataset,
                profile=profile_table(source),
                target="target",
                max_rows=None,
                seed=7,
            )
        return self.plans[dataset]

    def get(self, family: str, dataset: str) -> TrainedExport:
        key = (family, dataset)
        if key not in self.exports:
            self.exports[key] = self._export(family, dataset)
        return self.exports[key]

    def _export(self, family: str, dataset: str) -> TrainedExport:
        plan = self.plan(dataset)
        run_dir = self.root / dataset
        outcome = train_candidate(run_dir, plan, family, time_limit=LSTM_SECONDS)
        spec = export_spec(
            run_dir,
            family,
            params=outcome.params,
            metrics=outcome.metrics,
            title=f"{family} on {dataset}",
            fit_seconds=outcome.fit_seconds,
            source=source_file(self.source(dataset)),
            cv_scores=outcome.cv_scores,
            search_rows=outcome.charts.get("search_rows"),
        )
        zip_path = self.root / f"{family}-{dataset}.zip"
        arcnames = build_bundle(spec, zip_path)
        folder = self.root / f"{family}-{dataset}"
        folder.mkdir()
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
        holdout = pd.read_parquet(run_dir / "holdout.parquet")
        holdout.to_csv(folder / "holdout.csv", index=False)
        return TrainedExport(
            family=family,
            dataset=dataset,
            run_dir=run_dir,
            plan=plan,
            outcome=outcome,
            spec=spec,
            zip_path=zip_path,
            arcnames=arcnames,
            folder=folder,
        )


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> ExportFactory:
    return ExportFactory(tmp_path_factory.mktemp("exports"))
