"""The rendered modules, imported and run here: they behave exactly like the platform.

features.py must prepare and preprocess a table exactly as analysis/automl/preprocess.py
does, and evaluate.py's running sums must give scikit-learn's metrics however the rows
are split into chunks.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.automl.metrics import score_predictions
from analysis.automl.preprocess import FeatureSpec, build_preprocessor, prepare_frame
from exporters import render_files

from .test_exporters import make_spec

RENDERED_MODULES = ("features", "model_io", "evaluate", "predict", "train")


@contextmanager
def rendered(spec, folder: Path, modules=("features", "evaluate")):
    """Render `spec` into `folder` and import its modules; forget them afterwards."""
    for name, text in render_files(spec).items():
        (folder / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        yield {name: importlib.import_module(name) for name in modules}
    finally:
        sys.path.remove(str(folder))
        for name in RENDERED_MODULES:
            sys.modules.pop(name, None)


@pytest.fixture
def regression(tmp_path):
    with rendered(make_spec("linear", "regression"), tmp_path) as modules:
        yield modules


@pytest.fixture
def multiclass(tmp_path):
    with rendered(make_spec("linear", "multiclass"), tmp_path) as modules:
        yield modules


def messy_frame() -> pd.DataFrame:
    """Values as uploads have them: numbers as text, junk, gaps, dates in many formats."""
    return pd.DataFrame(
        {
            "tenure": ["1", "2.5", "abc", None, "1e3", "-0", "7", ""],
            "monthly_total": [1.0, np.nan, 3.5, 4.0, -2.0, 0.0, 1e12, 2.0],
            "plan": ["basic", None, 3, True, "pro", "basic", np.nan, "é"],
            "shop": ["s1", "s2", None, "s1", "s3", "s2", "s4", "s1"],
            "signup_date": [
                "2021-01-02",
                "2021/03/04 05:06",
                "5 May 2022",
                None,
                "not a date",
                "2021-01-02T10:00:00+02:00",
                "2020-02-29 23:59:59",
                "",
            ],
            "unused": range(8),
        }
    )


def platform_spec() -> FeatureSpec:
    spec = make_spec()
    return FeatureSpec(
        spec.numeric, spec.categorical, spec.datetime, spec.dropped, spec.high_cardinality
    )


def test_prepare_frame_is_the_platforms(regression):
    frame = messy_frame()

    written = regression["features"].prepare_frame(frame)

    pd.testing.assert_frame_equal(written, prepare_frame(frame, platform_spec()))


def test_prepare_frame_reads_an_absent_column_as_missing_like_the_platform(regression):
    frame = messy_frame().drop(columns=["plan", "tenure"])

    written = regression["features"].prepare_frame(frame)

    pd.testing.assert_frame_equal(written, prepare_frame(frame, platform_spec()))


def test_build_preprocessor_is_the_platforms(regression):
    frame = pd.concat([messy_frame()] * 5, ignore_index=True)
    target = np.arange(len(frame), dtype=float)
    features = regression["features"]

    written = features.build_preprocessor()
    platform = build_preprocessor(platform_spec(), "regression", seed=make_spec().seed)

    assert repr(written) == repr(platform)
    np.testing.assert_array_equal(
        written.fit_transform(features.prepare_frame(frame), target),
        platform.fit_transform(prepare_frame(frame, platform_spec()), target),
    )
    assert list(written.get_feature_names_out()) == list(platform.get_feature_names_out())


def test_numeric_class_labels_match_however_a_file_writes_them(multiclass):
    features = multiclass["features"]

    indices = features.encode_target(pd.Series(["1", 2.0, 3, "2.0"]))

    assert indices.tolist() == [0, 1, 2, 1]


def test_a_label_the_model_never_saw_stops_with_a_clear_error(multiclass):
    features = multiclass["features"]

    with pytest.raises(features.DataError, match="'4'"):
        features.encode_target(pd.Series(["1", "4"]))


def test_text_class_labels_match_as_text(tmp_path):
    with rendered(make_spec("decision_tree", "binary", classes=[False, True]), tmp_path) as modules:
        indices = modules["features"].encode_target(pd.Series([True, "False", "True"]))

    assert indices.tolist() == [1, 0, 1]


def test_csv_and_parquet_chunks_hold_the_same_rows(regression, tmp_path):
    features = regression["features"]
    frame = messy_frame().assign(
        monthly_charges=np.arange(8.0), plan=["basic", None, "3", "True", "pro", "a;b", "", "é"]
    )
    frame.to_csv(tmp_path / "rows.csv", sep=";", index=False)
    frame.to_parquet(tmp_path / "rows.parquet", index=False)

    from_csv = pd.concat(features.iter_chunks(tmp_path / "rows.csv", 3))
    from_parquet = pd.concat(features.iter_chunks(tmp_path / "rows.parquet", 3))

    assert "unused" not in from_csv.columns
    pd.testing.assert_frame_equal(
        features.prepare_frame(from_csv).reset_index(drop=True),
        features.prepare_frame(from_parquet.replace({"plan": {"": None}})).reset_index(drop=True),
    )


def chunked(length: int, seed: int) -> list[slice]:
    """Uneven chunks covering 0..length, some of a single row."""
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, length), 6, replace=False))
    edges = [0, *cuts.tolist(), length]
    return [slice(a, b) for a, b in zip(edges, edges[1:], strict=False)]


@pytest.mark.parametrize("seed", range(3))
def test_regression_totals_equal_scikit_learn_in_any_chunking(regression, seed):
    rng = np.random.default_rng(seed)
    actual = rng.normal(1e4, 50, 200)
    predicted = actual + rng.normal(0, 20, 200)
    totals = regression["evaluate"].RegressionTotals()

    for part in chunked(200, seed):
        totals.add(actual[part], predicted[part])

    expected = score_predictions("regression", actual, predicted)
    assert totals.metrics() == pytest.approx(expected, rel=1e-12)


def test_a_constant_target_scores_as_scikit_learn_scores_it(regression):
    totals = regression["evaluate"].RegressionTotals()

    totals.add(np.array([3.0, 3.0]), np.array([3.0, 2.0]))
    totals.add(np.array([3.0]), np.array([3.0]))

    assert (
        totals.metrics()["r2"]
        == score_predictions("regression", np.full(3, 3.0), np.array([3.0, 2.0, 3.0]))["r2"]
    )


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(3))
def test_classification_totals_equal_scikit_learn_in_any_chunking(multiclass, seed):
    rng = np.random.default_rng(seed)
    # Class 2 never occurs but is predicted, and a probability of exactly 0 occurs:
    # the cases where the metrics' definitions differ most.
    actual = rng.choice([0, 1], 120)
    proba = rng.dirichlet([1, 1, 1], 120)
    proba[0] = [0.0, 0.0, 1.0]
    totals = multiclass["evaluate"].ClassificationTotals(3)

    for part in chunked(120, seed):
        totals.add(actual[part], proba[part])

    expected = score_predictions("multiclass", actual, proba.argmax(axis=1), proba)
    expected.pop("roc_auc", None)
    assert totals.metrics() == pytest.approx(expected, rel=1e-12)


def test_out_of_core_training_reads_the_sample_then_every_other_row_once(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.concat([messy_frame()] * 40, ignore_index=True)
    frame["monthly_charges"] = rng.normal(size=len(frame)).round(6)
    frame.loc[::7, "monthly_charges"] = np.nan  # unlabelled rows are skipped
    frame.to_csv(tmp_path / "rows.csv", index=False)
    labelled = frame["monthly_charges"].dropna()
    folder = tmp_path / "export"
    folder.mkdir()

    with rendered(make_spec("xgboost", "regression"), folder, ("train",)) as modules:
        train = modules["train"]
        sample = train.sample_rows(tmp_path / "rows.csv", 100, 64)
        target = sample["monthly_charges"].to_numpy()
        preprocessor = sys.modules["features"].build_preprocessor()
        inputs = preprocessor.fit_transform(sys.modules["features"].prepare_frame(sample), target)
        chunks = train.PreprocessedChunks(
            tmp_path / "rows.csv", preprocessor, (inputs, target, sample.index.max()), 64,
            tmp_path / "cache",
        )  # fmt: skip
        seen = [chunk_target for _, chunk_target in chunks._chunks()]

    assert len(sample) == 100 and sample.index.is_unique
    np.testing.assert_array_equal(seen[0], target[:64])  # the sample first, as fitted
    assert sorted(np.concatenate(seen)) == sorted(labelled)  # then the rest, each row once
