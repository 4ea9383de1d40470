"""Column names, categories and class labels never become code, however they are written.

A table whose names and values are made of quotes, triple quotes, backslashes, line
breaks, Jinja syntax, a shell command and non-Latin text goes through the whole path:
discovery, export, and the exported scripts. The rendered code must parse, hold each
hostile value only as a string literal, call nothing the template does not call, and
still reproduce the score.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.automl.discovery import train_candidate
from analysis.automl.export import export_spec, source_file
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from exporters import build_bundle

from .conftest import EVAL_CHUNK, TrainedExport, run_script

# Running any of these as code would create this file in the working folder.
PAYLOAD = "__import__('os').system('touch pwned')"
HOSTILE = [
    'say "hi"',
    "it's",
    "triple \"\"\" and ''' quotes",
    "back\\slash\\n and \\",
    "line\nbreak\r\n\ttab",
    PAYLOAD,
    "__import__('os').system('x')",
    "{{ 7 * 7 }} {% if true %}",
    "ünïcødé 名前 🚀 \u200f",
    "long " + "x" * 300,
]
NUMERIC = HOSTILE[:4]
CATEGORICAL = HOSTILE[4:8]
DATETIME = HOSTILE[8]
TARGET = HOSTILE[9]
CATEGORIES = HOSTILE
CLASSES = [HOSTILE[0], HOSTILE[5], HOSTILE[8]]


def hostile_frame(rows: int = 240, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.normal(size=rows).round(4) for name in NUMERIC})
    for name in CATEGORICAL[:-1]:
        frame[name] = rng.choice(CATEGORIES, rows)
    # Too many values for one column each: target-encoded.
    frame[CATEGORICAL[-1]] = rng.choice([f"{c} {n}" for c in CATEGORIES for n in range(3)], rows)
    moments = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 9_000, rows), "h")
    frame[DATETIME] = moments.strftime("%Y-%m-%d %H:%M")
    signal = frame[NUMERIC[0]] + (frame[CATEGORICAL[0]] == PAYLOAD)
    frame[TARGET] = np.select([signal < -0.5, signal < 0.5], CLASSES[:2], CLASSES[2])
    return frame


@pytest.fixture(scope="module")
def hostile_export(tmp_path_factory) -> TrainedExport:
    root = tmp_path_factory.mktemp("hostile")
    source = root / "hostile.parquet"
    hostile_frame().to_parquet(source, index=False)
    run_dir = root / "run"
    plan = prepare_run(
        source, run_dir, profile=profile_table(source), target=TARGET, max_rows=None, seed=5
    )
    outcome = train_candidate(run_dir, plan, "linear")
    spec = export_spec(
        run_dir,
        "linear",
        params=outcome.params,
        metrics=outcome.metrics,
        title=PAYLOAD,
        source=source_file(source, name=PAYLOAD),
        cv_scores=outcome.cv_scores,
    )
    zip_path = root / "hostile.zip"
    arcnames = build_bundle(spec, zip_path)
    folder = root / "unzipped"
    folder.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    pd.read_parquet(run_dir / "holdout.parquet").to_csv(folder / "holdout.csv", index=False)
    return TrainedExport(
        family="linear",
        dataset="hostile",
        run_dir=run_dir,
        plan=plan,
        outcome=outcome,
        spec=spec,
        zip_path=zip_path,
        arcnames=arcnames,
        folder=folder,
    )


def module_constants(path: Path) -> dict:
    """The module-level NAME = literal assignments of a Python file, evaluated safely."""
    constants = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def called_names(path: Path) -> set[str]:
    return {
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }


def test_the_discovery_kept_every_hostile_column(hostile_export):
    features = hostile_export.plan.features

    assert (features.numeric, features.categorical, features.datetime) == (
        NUMERIC,
        CATEGORICAL,
        [DATETIME],
    )
    assert features.high_cardinality == CATEGORICAL[-1:]


def test_every_hostile_value_is_a_string_literal_of_itself(hostile_export):
    constants = module_constants(hostile_export.folder / "features.py")

    assert constants["TARGET"] == TARGET
    assert constants["NUMERIC"] == NUMERIC
    assert constants["CATEGORICAL"] == CATEGORICAL
    assert constants["DATETIME"] == [DATETIME]
    assert constants["CLASSES"] == sorted(CLASSES)
    assert module_constants(hostile_export.folder / "train.py")["DISCOVERY_FILE"] == PAYLOAD


def test_the_code_calls_only_what_the_template_calls(hostile_export, exports):
    benign = exports.get("linear", "classification")

    for name in ("features.py", "model_io.py", "train.py", "evaluate.py", "predict.py"):
        hostile_calls = called_names(hostile_export.folder / name)
        assert hostile_calls == called_names(benign.folder / name), name


def test_the_scripts_run_and_reproduce_the_score(hostile_export):
    result = hostile_export.run("evaluate.py", "--data", "holdout.csv", "--chunksize", EVAL_CHUNK)
    hostile_export.run("predict.py", "--data", "holdout.csv", "--out", "predictions.csv")

    reported = json.loads(result.stdout.strip().splitlines()[-1])
    assert reported["score"] == pytest.approx(hostile_export.outcome.metrics["accuracy"], abs=1e-9)
    assert not (hostile_export.folder / "pwned").exists()


def test_the_predictions_name_the_hostile_classes(hostile_export):
    run_script(hostile_export.folder, "predict.py", "--data", "holdout.csv", "--out", "p.parquet")

    predictions = pd.read_parquet(hostile_export.folder / "p.parquet")

    assert set(predictions["prediction"]) <= set(CLASSES)
    assert [f"probability_{label}" for label in sorted(CLASSES)] == list(predictions.columns[1:])


def test_ruff_format_leaves_the_literals_as_they_are(hostile_export):
    ruff = Path(sys.executable).with_name("ruff")
    names = sorted(path.name for path in hostile_export.folder.glob("*.py"))

    result = subprocess.run(
        [ruff, "format", "--check", "--diff", "--isolated", *names],
        cwd=hostile_export.folder,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout


def test_the_predictions_csv_shows_formula_like_values_as_text(hostile_export):
    folder = hostile_export.folder
    rows = pd.read_csv(folder / "holdout.csv").head(4)
    category = CATEGORICAL[0]
    rows[category] = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","go")', "@SUM(1)", "ok"]
    rows["amount"] = ["-1.5", "+2", "-3e4", "7"]
    rows.to_csv(folder / "formulas.csv", index=False)

    run_script(
        folder, "predict.py", "--data", "formulas.csv", "--out", "formulas_out.csv",
        "--keep", category, "--keep", "amount",
    )  # fmt: skip

    written = pd.read_csv(folder / "formulas_out.csv", dtype=str, keep_default_na=False)
    assert written[category].tolist() == [
        "'=cmd|' /C calc'!A0",
        '\'=HYPERLINK("http://x.example","go")',
        "'@SUM(1)",
        "ok",
    ]
    assert written["amount"].tolist() == ["-1.5", "+2", "-3e4", "7"]
