"""The compiled fast path predicts what the scikit-learn pipeline predicts, family by task."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.automl.candidates import get_candidate
from analysis.automl.compiled import ONNX_FILE, RECORD_FILE, CompiledModel, compile_model
from analysis.automl.compiled_prep import FastPreprocessor
from analysis.automl.fitted import FittedModel
from analysis.automl.preprocess import FeatureSpec

TASKS = ("regression", "binary", "multiclass")
FAMILIES = ("linear", "decision_tree", "random_forest", "xgboost", "lstm")
SMALL = {
    "random_forest": {"n_estimators": 15},
    "xgboost": {"n_estimators": 20},
    "lstm": {"epochs": 2, "units": 8},
}
TOLERANCE = 1e-5
TRAIN_ROWS = 300


def table(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Numbers with gaps and a large scale, a few-valued category with a rare value, a
    40-valued (target-encoded) one, a date; and a target of each kind."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "amount": rng.normal(1000, 300, size=rows),
            "plan": rng.choice(["basic", "plus", "pro", None], rows, p=[0.4, 0.3, 0.28, 0.02]),
            "city": [f"city-{c}" for c in rng.integers(0, 40, rows)],
            "since": pd.date_range("2024-01-01", periods=rows, freq="13h").astype(str),
        }
    )
    frame.loc[::11, "x"] = np.nan
    frame.loc[3, "plan"] = "rare"
    signal = frame["x"].fillna(0) * 3 + frame["amount"] / 100 + rng.normal(size=rows)
    targets = {
        "regression": signal * 50,
        "binary": (signal > signal.median()).astype(int),
        "multiclass": pd.qcut(signal, 3, labels=False),
    }
    return frame, targets


SPEC = FeatureSpec(
    numeric=["x", "amount"],
    categorical=["plan", "city"],
    datetime=["since"],
    high_cardinality=["city"],
)


def fitted(family: str, task: str, spec: FeatureSpec = SPEC) -> tuple[FittedModel, pd.DataFrame]:
    frame, targets = table()
    y = targets[task]
    train, holdout = frame.iloc[:TRAIN_ROWS], frame.iloc[TRAIN_ROWS:]
    candidate = get_candidate(family)
    params = {**candidate.default_params(task), **SMALL.get(family, {})}
    pipeline = candidate.build(params, features=spec, task=task, seed=0)
    pipeline.fit(train, y.iloc[:TRAIN_ROWS])
    classes = None if task == "regression" else sorted(y.unique().tolist())
    return FittedModel(family, task, "y", classes, spec, pipeline), holdout


def assert_close(got, expected):
    got, expected = np.asarray(got, dtype="float64"), np.asarray(expected, dtype="float64")
    assert got.shape == expected.shape
    error = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
    assert error.max() <= TOLERANCE, f"largest relative difference {error.max():.2e}"


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", FAMILIES)
def test_the_fast_path_predicts_what_the_pipeline_predicts(family, task, tmp_path):
    model, holdout = fitted(family, task)
    model.save(tmp_path)
    record = compile_model(model, tmp_path)
    compiled = CompiledModel.load(tmp_path)

    if family == "lstm":
        assert compiled.path == "keras" and record["onnx"] is None
        assert "Keras" in record["reason"]
    else:
        assert compiled.path == "onnx", record.get("reason")
        assert record["sha256"] and (tmp_path / ONNX_FILE).exists()
    expected, expected_proba = model.predict_encoded(holdout)
    got, proba = compiled.predict_rows(holdout.to_dict("records"))
    if task == "regression":
        assert proba is None and expected_proba is None
        assert_close(got, expected)
    else:
        assert_close(proba, expected_proba)
        # A class whose probability ties another's within rounding may differ; none here.
        assert (got == expected).mean() == 1.0
    # One row at a time, the serving case, answers the same as the batch.
    for i in (0, 7):
        one, _ = compiled.predict_rows([holdout.iloc[i].to_dict()])
        assert_close(one, np.asarray(got)[i : i + 1])


def test_the_numpy_preprocessing_equals_scikit_learns_on_awkward_values():
    model, holdout = fitted("linear", "multiclass")
    fast = FastPreprocessor.build(model.features, model.preprocessor)
    rows = [
        {"x": "3.5", "amount": True, "plan": 7, "city": "city-3", "since": "2024-05-01"},
        {"x": None, "plan": "never seen", "city": None, "since": "not a date"},
        {"amount": 10**20, "plan": "rare", "city": "", "extra": "ignored"},
        {"x": float("nan"), "amount": -1, "plan": None, "city": "city-39"},
        {"x": 2, "plan": float("nan"), "city": "city-1"},
        {},
    ]
    for batch in (rows, rows[2:], rows[3:4], rows[4:5], holdout.to_dict("records")):
        expected = model.transform(pd.DataFrame.from_records(batch))
        np.testing.assert_allclose(fast.transform_rows(batch), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-03-10", "2024-03-10 05:06", "2024-03-10T23:30:00.123456", None],
        ["2024-03-10T23:30:00+02:00", "2024-03-10T01:30:00-05:30", "2024-12-31T23:59:59Z"],
        ["2024-02-30", "1600-01-01", "10/03/2024", "2024-03-10 05:06:07+01:00", None],
        ["yesterday", 20240310, "2024-W10-1", "2024-03-10"],
    ],
)
def test_dates_read_without_pandas_are_read_as_pandas_reads_them(dates):
    model, _ = fitted("linear", "regression")
    fast = FastPreprocessor.build(model.features, model.preprocessor)
    rows = [{"since": value, "x": 1.0} for value in dates]
    expected = model.transform(pd.DataFrame.from_records(rows))
    np.testing.assert_allclose(fast.transform_rows(rows), expected, rtol=1e-12, atol=1e-12)
    for row in rows:  # and one at a time, the serving case
        expected = model.transform(pd.DataFrame.from_records([row]))
        np.testing.assert_allclose(fast.transform_rows([row]), expected, rtol=1e-12, atol=1e-12)


def test_a_table_of_numbers_only_and_one_of_categories_only(tmp_path):
    for spec in (
        FeatureSpec(numeric=["x", "amount"], categorical=[], datetime=[]),
        FeatureSpec(numeric=[], categorical=["plan", "city"], datetime=[]),
    ):
        model, holdout = fitted("random_forest", "binary", spec)
        model.save(tmp_path)
        compile_model(model, tmp_path)
        compiled = CompiledModel.load(tmp_path)
        assert compiled.path == "onnx"
        assert_close(
            compiled.predict_rows(holdout.to_dict("records"))[1],
            model.predict_encoded(holdout)[1],
        )


def test_a_model_saved_before_compiling_existed_is_compiled_on_first_load(tmp_path):
    model, _ = fitted("decision_tree", "regression")
    model.save(tmp_path)
    assert not (tmp_path / RECORD_FILE).exists()
    assert CompiledModel.load(tmp_path).path == "onnx"
    assert json.loads((tmp_path / RECORD_FILE).read_text())["onnx"] == ONNX_FILE


def test_a_retrained_model_is_compiled_again(tmp_path):
    first, holdout = fitted("linear", "regression")
    first.save(tmp_path)
    compile_model(first, tmp_path)
    second, _ = fitted("decision_tree", "regression")
    second.save(tmp_path)  # the model files change; compiled.json still names the first's
    compiled = CompiledModel.load(tmp_path)
    assert compiled.model.family == "decision_tree"
    assert_close(compiled.predict_rows(holdout.to_dict("records"))[0], second.predict(holdout))


def test_a_graph_that_fails_its_checksum_is_not_run(tmp_path):
    model, holdout = fitted("linear", "binary")
    model.save(tmp_path)
    compile_model(model, tmp_path)
    (tmp_path / ONNX_FILE).write_bytes(b"not the graph")
    compiled = CompiledModel.load(tmp_path)
    assert compiled.path == "estimator" and "checksum" in compiled.reason
    assert_close(
        compiled.predict_rows(holdout.to_dict("records"))[1], model.predict_encoded(holdout)[1]
    )


def test_an_estimator_without_a_converter_falls_back_with_its_reason(tmp_path):
    from sklearn.kernel_ridge import KernelRidge

    model, holdout = fitted("linear", "regression")
    frame, targets = table()
    inputs = model.transform(frame.iloc[:TRAIN_ROWS])
    model.pipeline.steps[-1] = (
        "model",
        KernelRidge().fit(inputs, targets["regression"].iloc[:TRAIN_ROWS]),
    )
    model.save(tmp_path)
    record = compile_model(model, tmp_path)
    assert record["onnx"] is None and "KernelRidge" in record["reason"]
    compiled = CompiledModel.load(tmp_path)
    assert compiled.path == "estimator" and "KernelRidge" in compiled.reason
    assert not (tmp_path / ONNX_FILE).exists()
    assert_close(compiled.predict_rows(holdout.to_dict("records"))[0], model.predict(holdout))


@pytest.mark.parametrize("task", TASKS)
def test_a_forest_too_big_to_compile_quickly_serves_itself(task, tmp_path, monkeypatch):
    from analysis.automl import compiled as compiled_module

    model, holdout = fitted("random_forest", task)
    monkeypatch.setattr(compiled_module, "COMPILE_MAX_NODES", 100)
    model.save(tmp_path)
    record = compile_model(model, tmp_path)
    assert record["onnx"] is None and "tree nodes" in record["reason"]
    compiled = CompiledModel.load(tmp_path)
    assert compiled.path == "estimator"
    # Its trees summed directly give what the forest's own predict gives.
    for got, expected in zip(
        compiled.predict_rows(holdout.to_dict("records")),
        model.predict_encoded(holdout),
        strict=True,
    ):
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
