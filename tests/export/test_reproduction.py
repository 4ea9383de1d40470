"""The export reproduces what the leaderboard says, run as a user runs it: `python -I`.

For each family on a regression, a multi-class and a binary run: evaluate.py on the holdout,
read in several chunks, gives the holdout metrics; predict.py writes the platform's own
predictions; train.py on the training rows rebuilds the same model.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, r2_score

from analysis.automl.fitted import FittedModel

from .conftest import DATASETS, DETERMINISTIC, EVAL_CHUNK, FAMILIES, TrainedExport

pytestmark = pytest.mark.parametrize("dataset", DATASETS)
families = pytest.mark.parametrize("family", FAMILIES)
# Metrics evaluate.py computes exactly in chunks (ROC AUC needs all scores at once).
STREAMED_METRICS = {"r2", "rmse", "mae", "accuracy", "balanced_accuracy", "f1_macro", "log_loss"}


def platform_predictions(export: TrainedExport, frame: pd.DataFrame) -> pd.DataFrame:
    """What PROMISE itself predicts for `frame`, in the layout predict.py writes."""
    model = FittedModel.load(Path(export.outcome.model_dir))
    encoded, proba = model.predict_encoded(frame)
    labels = encoded.tolist() if model.classes is None else [model.classes[i] for i in encoded]
    predictions = pd.DataFrame({"prediction": labels})
    for index, label in enumerate(model.classes or []):
        predictions[f"probability_{label}"] = proba[:, index]
    return predictions


def holdout_score(export: TrainedExport, predictions: pd.DataFrame) -> float:
    """The primary metric of predictions written by predict.py for the holdout rows."""
    actual = export.holdout[export.plan.target]
    if export.plan.metric == "r2":
        return r2_score(actual, predictions["prediction"])
    return accuracy_score(actual.astype(str), predictions["prediction"].astype(str))


def assert_same_predictions(actual: pd.DataFrame, expected: pd.DataFrame, *, rtol: float):
    assert list(actual.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            np.testing.assert_allclose(actual[column], expected[column], rtol=rtol, atol=rtol)
        else:
            assert actual[column].tolist() == expected[column].tolist()


@families
def test_it_reproduces_the_holdout_score_reading_the_csv_in_chunks(exports, family, dataset):
    export = exports.get(family, dataset)
    assert export.plan.holdout_rows > 3 * int(EVAL_CHUNK)

    reported = export.evaluation

    tolerance = 1e-9 if export.deterministic else 0.01
    assert reported["score"] == pytest.approx(
        export.outcome.metrics[export.plan.metric], abs=tolerance
    )
    assert reported["rows"] == export.plan.holdout_rows


@pytest.mark.parametrize("family", DETERMINISTIC)
def test_it_computes_every_streamed_metric_as_the_platform_does(exports, family, dataset):
    export = exports.get(family, dataset)

    reported = export.evaluation

    expected = {k: v for k, v in export.outcome.metrics.items() if k in STREAMED_METRICS}
    assert {k: reported[k] for k in expected} == pytest.approx(expected, abs=1e-9)


@families
def test_it_predicts_what_the_platform_predicts(exports, family, dataset):
    export = exports.get(family, dataset)
    out = "predictions.parquet" if dataset == "classification" else "predictions.csv"

    export.run("predict.py", "--data", "holdout.csv", "--out", out, "--chunksize", "16")

    written = pd.read_parquet if out.endswith(".parquet") else pd.read_csv
    expected = platform_predictions(export, export.holdout)
    assert_same_predictions(written(export.folder / out), expected, rtol=1e-9)


@families
def test_train_on_the_training_rows_rebuilds_the_model(exports, family, dataset):
    export = exports.get(family, dataset)
    pd.read_parquet(export.run_dir / "train.parquet").to_csv(
        export.folder / "train.csv", index=False
    )

    export.run("train.py", "--data", "train.csv", "--out", "retrained")
    export.run(
        "predict.py",
        *("--data", "holdout.csv", "--out", "retrained.parquet", "--model", "retrained"),
    )

    retrained = pd.read_parquet(export.folder / "retrained.parquet")
    expected = platform_predictions(export, export.holdout)
    if export.deterministic:
        assert_same_predictions(retrained, expected, rtol=1e-9)
    else:
        # Keras on CPU does not promise the same weights twice: the retrained network
        # must score as the platform's did, to within 0.01.
        assert list(retrained.columns) == list(expected.columns)
        assert holdout_score(export, retrained) == pytest.approx(
            export.outcome.metrics[export.plan.metric], abs=0.01
        )


@families
def test_the_manifest_holds_the_checksum_of_every_file(exports, family, dataset):
    export = exports.get(family, dataset)

    lines = (export.folder / "MANIFEST").read_text().splitlines()

    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == set(export.arcnames) - {"MANIFEST"}
    for name, digest in listed.items():
        assert hashlib.sha256((export.folder / name).read_bytes()).hexdigest() == digest


def test_a_changed_model_file_is_not_loaded(exports, dataset, tmp_path):
    export = exports.get("linear", dataset)
    folder = tmp_path / "tampered"
    shutil.copytree(export.folder, folder)
    with open(folder / "model.joblib", "ab") as handle:
        handle.write(b"\0")

    result = subprocess.run(
        [sys.executable, "-I", "evaluate.py", "--data", "holdout.csv"],
        cwd=folder,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "does not match its checksum" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_can_learn_from_a_sample_drawn_in_one_pass(exports, dataset):
    export = exports.get("linear", dataset)

    result = export.run(
        "train.py", "--data", "holdout.csv", "--out", "sampled", "--sample-size", "25"
    )

    assert "Training on 25 rows" in result.stdout
    assert (export.folder / "sampled" / "MANIFEST").is_file()


def test_xgboost_trains_out_of_core_to_the_same_model(exports, dataset):
    export = exports.get("xgboost", dataset)
    pd.read_parquet(export.run_dir / "train.parquet").to_parquet(export.folder / "train.parquet")

    export.run(
        "train.py",
        *("--data", "train.parquet", "--out", "out_of_core", "--external-memory"),
        *("--chunksize", "40"),
    )
    export.run(
        "predict.py",
        *("--data", "holdout.csv", "--out", "out_of_core.csv", "--model", "out_of_core"),
    )

    written = pd.read_csv(export.folder / "out_of_core.csv")
    expected = platform_predictions(export, export.holdout)
    assert_same_predictions(written, expected, rtol=1e-6)
    # The temporary pages are gone; only the model files are left.
    assert sorted(path.name for path in (export.folder / "out_of_core").iterdir()) == [
        "MANIFEST",
        "model.joblib",
        "model.json",
        "preprocessor.joblib",
    ]
