"""Per-prediction contributions (analysis/automl/explain.py): for every explained family and
every kind of task they add up to the model's own output and are per original column."""

import numpy as np
import pytest

from analysis.automl.explain import EXPLAINED, NotExplained, explain, input_sources
from tests.unit.test_compiled import fitted

TASKS = ("regression", "binary", "multiclass")


def model_output(model, frame) -> tuple[np.ndarray, np.ndarray]:
    """The model's own output for each row's predicted class, as the family is explained,
    computed without shap: the prediction, the probability, or the log-odds."""
    inputs = model.transform(frame)
    encoded, proba = model.predict_encoded(frame)
    if model.task == "regression":
        return np.asarray(model.estimator.predict(inputs), dtype="float64"), encoded
    rows = np.arange(len(frame))
    if model.family in ("decision_tree", "random_forest"):
        return model.estimator.predict_proba(inputs)[rows, encoded], encoded
    if model.family == "xgboost":
        margin = model.estimator.predict(inputs, output_margin=True)
    else:
        margin = model.estimator.decision_function(inputs)
    margin = np.asarray(margin, dtype="float64")
    if margin.ndim == 1:  # the log-odds of class 1
        return np.where(encoded == 1, margin, -margin), encoded
    return margin[rows, encoded], encoded


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", EXPLAINED)
def test_contributions_add_up_to_the_models_output_per_original_column(family, task):
    model, holdout = fitted(family, task)
    rows = holdout.head(20)
    answers = explain(model, rows, background=holdout)
    expected, encoded = model_output(model, rows)
    for answer, value, k in zip(answers, expected, encoded, strict=True):
        # one contribution per original column: the one-hot, target-encoded (city) and
        # date-part inputs are summed back to plan, city and since
        assert sorted(answer["contributions"]) == ["amount", "city", "plan", "since", "x"]
        total = answer["base_value"] + sum(answer["contributions"].values())
        assert abs(total - value) <= 1e-4 * max(1.0, abs(value)), (answer, value)
        assert answer["value"] == pytest.approx(total)
        if task == "regression":
            assert answer["output"] == "prediction" and "class" not in answer
        else:
            assert answer["class"] == model.classes[k]
            assert answer["output"] == (
                "probability" if family in ("decision_tree", "random_forest") else "log-odds"
            )
    # the contributions are not all zero: the signal's columns move the prediction
    assert max(abs(a["contributions"]["amount"]) for a in answers) > 0


def test_each_model_input_is_traced_to_its_column():
    model, holdout = fitted("linear", "multiclass")
    sources = input_sources(model)
    assert len(sources) == model.transform(holdout.head(1)).shape[1]
    assert sources.count("since") == 5  # year, month, day, day of week, hour
    assert sources.count("city") == 3  # target-encoded: one input per class
    assert sources.count("plan") >= 3  # one-hot: one input per kept category
    assert sources.count("x") == sources.count("amount") == 1


def test_the_linear_reference_is_the_background_mean_or_zero():
    model, holdout = fitted("linear", "regression")
    row = holdout.head(1)
    with_background = explain(model, row, background=holdout)[0]
    without = explain(model, row)[0]
    # the same prediction, split from a different reference
    assert with_background["value"] == pytest.approx(without["value"])
    assert without["base_value"] == pytest.approx(float(model.estimator.intercept_))
    assert with_background["base_value"] != pytest.approx(without["base_value"])


def test_the_lstm_is_left_out_with_a_sentence():
    model, holdout = fitted("lstm", "regression")
    with pytest.raises(NotExplained, match="LSTM"):
        explain(model, holdout.head(1))
