"""Partial dependence with ICE lines (analysis/automl/dependence.py): the same numbers as
scikit-learn's partial_dependence, bounded in rows and columns and by the time budget."""

import time

import numpy as np
import pytest
from sklearn.inspection import partial_dependence
from sklearn.pipeline import Pipeline

from analysis.automl import dependence
from analysis.automl.preprocess import prepare_frame
from tests.unit.test_compiled import fitted

IMPORTANCE = [{"feature": f} for f in ("since", "amount", "city", "x", "plan", "other")]


def sklearn_both(model, frame, feature, categorical=False):
    pipeline = Pipeline([("preprocess", model.preprocessor), ("model", model.estimator)])
    return partial_dependence(
        pipeline,
        prepare_frame(frame, model.features),
        [feature],
        categorical_features=[feature] if categorical else None,
        grid_resolution=dependence.GRID_POINTS,
        kind="both",
        method="brute",
    )


@pytest.mark.parametrize(
    ("family", "task"), [("random_forest", "binary"), ("linear", "regression")]
)
@pytest.mark.parametrize(("feature", "categorical"), [("amount", False), ("plan", True)])
def test_the_lines_are_scikit_learns_partial_dependence(family, task, feature, categorical):
    model, holdout = fitted(family, task)
    rows = holdout[holdout["plan"].notna()].reset_index(drop=True)
    expected = sklearn_both(model, rows, feature, categorical)
    prepared = prepare_frame(rows, model.features)[feature]
    grid = (dependence.category_grid if categorical else dependence.number_grid)(prepared)
    np.testing.assert_array_equal(np.asarray(grid), expected["grid_values"][0])
    # binary: scikit-learn answers the second class's probability
    ice = dependence.individual_lines(model, rows, feature, grid, class_index=1)
    np.testing.assert_allclose(ice, expected["individual"][0], atol=1e-9)
    np.testing.assert_allclose(ice.mean(axis=0), expected["average"][0], atol=1e-9)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_the_five_most_important_usable_columns_in_order(task):
    model, holdout = fitted("xgboost", task)
    charts = dependence.dependence_chart(model, holdout, IMPORTANCE, seed=0)
    # the date column is left out (several model inputs), and a column the model lacks
    assert [c["feature"] for c in charts] == ["amount", "city", "x", "plan"]
    for chart in charts:
        assert len(chart["grid"]) == len(chart["average"]) <= dependence.GRID_POINTS
        assert 0 < len(chart["ice"]) <= dependence.ICE_ROWS
        assert all(len(line) == len(chart["grid"]) for line in chart["ice"])
        assert (
            np.allclose(np.mean(chart["ice"], axis=0), chart["average"])
            or len(holdout) > dependence.ICE_ROWS
        )
    amount = charts[0]
    assert amount["kind"] == "numeric" and amount["grid"] == sorted(amount["grid"])
    assert charts[3]["kind"] == "categorical" and charts[3]["grid"] == ["basic", "plus", "pro"]
    if task == "regression":
        assert amount["output"] == "prediction"
        # the target grows with amount: so does its partial dependence
        assert amount["average"][-1] > amount["average"][0]
    else:
        assert amount["output"].startswith("probability of ")


def test_nothing_is_computed_once_the_time_budget_has_run_out():
    model, holdout = fitted("decision_tree", "regression")
    assert dependence.dependence_chart(model, holdout, IMPORTANCE, until=time.perf_counter()) == []


def test_at_most_the_sample_rows_are_predicted(monkeypatch):
    model, holdout = fitted("decision_tree", "regression")
    monkeypatch.setattr(dependence, "SAMPLE_ROWS", 7)
    seen = []
    predict = model.predict_encoded
    monkeypatch.setattr(model, "predict_encoded", lambda f: seen.append(len(f)) or predict(f))
    charts = dependence.dependence_chart(model, holdout, IMPORTANCE[:2])
    assert seen == [7 * len(charts[0]["grid"])]  # one batch: sample rows × grid
