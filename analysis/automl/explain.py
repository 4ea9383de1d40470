"""Each feature's contribution to one prediction (SHAP values), per original column.

How each family is explained:
    xgboost         XGBoost's own TreeSHAP (`pred_contribs=True` on the booster)
    decision_tree,  the `shap` library's TreeExplainer (path-dependent: the trees' own
    random_forest   training counts stand for the background, no data needed)
    linear          the `shap` library's LinearExplainer: coefficient × (input − reference),
                    the reference being the mean of a background sample of rows (the
                    run's holdout) when one is given, else every model input at zero: numbers
                    at their training mean (they are standardised) and no category
    lstm            not explained: exact SHAP values of a network need a sampling method
                    (KernelSHAP) costing thousands of predictions per record

Units: regression contributions are in the target's units. Classification explains the
predicted class of each record: in log-odds for XGBoost and the linear model (their raw
score before the sigmoid or softmax; for more than two classes the class's softmax
score), in probability for the tree and the forest. In every case
`base_value + sum(contributions) == value`, the model's output for that record.

The model sees encoded inputs (one-hot columns, date parts, target encodings); the
contributions of the inputs made from one column are summed back to that column.
Django-free: analysis/explanations.py serves these to the page and the API.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fitted import FittedModel
from .preprocess import DATETIME_PARTS
from .problem import REGRESSION

EXPLAINED = ("xgboost", "decision_tree", "random_forest", "linear")
NOT_EXPLAINED = (
    "The LSTM's predictions are not explained: exact contributions of a neural network "
    "need a sampling method that costs thousands of predictions per record."
)
OUTPUTS = {
    "xgboost": "log-odds",
    "linear": "log-odds",
    "decision_tree": "probability",
    "random_forest": "probability",
}


class NotExplained(Exception):
    """The model's family has no contributions (the sentence says why)."""


def input_sources(model: FittedModel) -> list[str]:
    """The original column each model input (the preprocessor's output) was made from."""
    spec, sources = model.features, []
    parts = {f"{col}__{part}": col for col in spec.datetime for part in DATETIME_PARTS}
    for name, transformer, columns in model.preprocessor.transformers_:
        if name == "remainder" or transformer == "drop" or not len(columns):
            continue
        if name == "categorical":  # one-hot: as many inputs as the column's kept categories
            widths = list(transformer.named_steps["encode"]._n_features_outs)
        else:  # one each (one per class for a multi-class target encoding)
            width = len(transformer.get_feature_names_out(columns)) // len(columns)
            widths = [width] * len(columns)
        for column, width in zip(columns, widths, strict=True):
            sources += [parts.get(column, column)] * width
    return sources


def explain(
    model: FittedModel, frame: pd.DataFrame, background: pd.DataFrame | None = None
) -> list[dict]:
    """One explanation per row of `frame`: {"value", "base_value", "output", "class"
    (classification), "contributions": {column: contribution}}."""
    if model.family not in EXPLAINED:
        raise NotExplained(NOT_EXPLAINED)
    inputs = model.transform(frame)
    inputs = np.asarray(inputs, dtype="float64")
    values, base = _shap(model, inputs, background)  # (rows, inputs[, classes]), base
    encoded, _ = model.predict_encoded(frame)
    sources = input_sources(model)
    columns = list(dict.fromkeys(sources))
    to_columns = np.zeros((len(sources), len(columns)))
    to_columns[np.arange(len(sources)), [columns.index(s) for s in sources]] = 1.0
    answers = []
    for i in range(len(frame)):
        row, row_base, label = _for_predicted_class(model, values[i], base, encoded[i])
        per_column = row @ to_columns
        answer = {
            "output": "prediction" if model.task == REGRESSION else OUTPUTS[model.family],
            "base_value": float(row_base),
            "value": float(row_base + per_column.sum()),
            "contributions": dict(zip(columns, per_column.tolist(), strict=True)),
        }
        if label is not None:
            answer["class"] = label
        answers.append(answer)
    return answers


def _for_predicted_class(model: FittedModel, values, base, encoded):
    """The contributions and base value for the record's predicted class (all of them in
    regression), and that class's label."""
    if model.task == REGRESSION:
        return values, float(np.ravel(base)[0]), None
    k = int(encoded)
    label = model.classes[k]
    if values.ndim == 1:  # one log-odds output for two classes: that of class 1
        sign = 1.0 if k == 1 else -1.0
        return sign * values, sign * float(np.ravel(base)[0]), label
    return values[:, k], float(np.ravel(base)[k]), label


def _shap(model: FittedModel, inputs: np.ndarray, background: pd.DataFrame | None):
    """SHAP values (rows, inputs) or (rows, inputs, classes) and the base value(s)."""
    estimator = model.estimator
    if model.family == "xgboost":
        import xgboost

        booster = estimator.get_booster()
        contribs = booster.predict(xgboost.DMatrix(inputs), pred_contribs=True)
        contribs = np.asarray(contribs, dtype="float64")
        if contribs.ndim == 3:  # (rows, classes, inputs + 1)
            contribs = contribs.transpose(0, 2, 1)
            return contribs[:, :-1, :], contribs[0, -1, :]
        return contribs[:, :-1], contribs[0, -1]
    import shap

    if model.family == "linear":
        if background is not None and len(background):
            reference = model.transform(background).mean(axis=0)
        else:
            reference = np.zeros(inputs.shape[1])
        masker = (reference, np.eye(inputs.shape[1]))
        explainer = shap.LinearExplainer(estimator, masker)
        values = np.asarray(explainer.shap_values(inputs), dtype="float64")
        base = np.asarray(explainer.expected_value, dtype="float64")
        if values.ndim == 3 and values.shape[0] != inputs.shape[0]:  # (classes, rows, inputs)
            values = values.transpose(1, 2, 0)
        return values, base
    explainer = shap.TreeExplainer(estimator)
    values = np.asarray(explainer.shap_values(inputs, check_additivity=False), dtype="float64")
    base = np.asarray(explainer.expected_value, dtype="float64")
    if model.task != REGRESSION and values.ndim == 2:  # shap gave class 1's only
        values = np.stack([-values, values], axis=2)
        base = np.array([1.0 - float(np.ravel(base)[0]), float(np.ravel(base)[0])])
    return values, base
