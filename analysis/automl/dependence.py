"""Partial dependence with ICE lines for a trained candidate's most important columns.

For each of the TOP_FEATURES most important columns (permutation importance, most
important first) the column is set to each value of a grid in turn, for every row of a
seeded sample of at most SAMPLE_ROWS holdout rows, and the model predicts: each row's
line is its ICE curve (individual conditional expectation), their mean the partial
dependence. This is scikit-learn's `partial_dependence(kind="both", method="brute")`
with the same grid (the unique values when there are fewer than GRID_POINTS, else
GRID_POINTS values evenly between the 5th and 95th percentiles), computed in one batched
prediction per column instead of one per grid value (scikit-learn's loop costs the
preprocessing's overhead per value: 4 s instead of 0.3 s for five columns, and 25 s for
the LSTM); tests/unit/automl/test_dependence.py checks the two agree. Categories get
their GRID_POINTS most frequent values in the sample (missing left out). Date columns are
left out (the model reads them as several parts).

The output is the prediction (regression) or the probability of one class: the positive
class (the second) of a binary target, else the class predicted most often in the sample.
The stored chart keeps every row's mean and the ICE lines of at most ICE_ROWS rows. Its
cost is bounded (SAMPLE_ROWS × GRID_POINTS predictions per column) and columns are
skipped once the candidate's time budget (`until`) has run out.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.stats.mstats import mquantiles

from .fitted import FittedModel
from .preprocess import prepare_frame
from .problem import REGRESSION

TOP_FEATURES = 5
SAMPLE_ROWS = 200
GRID_POINTS = 20
ICE_ROWS = 50
PERCENTILES = (0.05, 0.95)


def dependence_chart(
    model: FittedModel,
    holdout: pd.DataFrame,
    importance: list[dict],
    *,
    seed: int = 0,
    until: float | None = None,
) -> list[dict]:
    """[{feature, kind, grid, average, ice, output}] for the most important columns, in
    order of importance; `until` is a time.perf_counter() deadline."""
    usable = set(model.features.numeric) | set(model.features.categorical)
    features = [d["feature"] for d in importance if d["feature"] in usable][:TOP_FEATURES]
    if not features or holdout.empty or (until is not None and time.perf_counter() >= until):
        return []
    sample = holdout.sample(min(SAMPLE_ROWS, len(holdout)), random_state=seed)
    sample = sample.reset_index(drop=True)
    prepared = prepare_frame(sample, model.features)
    class_index, output = _output(model, sample)
    charts = []
    for feature in features:
        if until is not None and time.perf_counter() >= until:
            break
        is_category = feature in model.features.categorical
        grid = category_grid(prepared[feature]) if is_category else number_grid(prepared[feature])
        if not len(grid):
            continue
        ice = individual_lines(model, sample, feature, grid, class_index)
        charts.append(
            {
                "feature": feature,
                "kind": "categorical" if is_category else "numeric",
                "grid": [str(v) for v in grid] if is_category else _floats(grid),
                "average": _floats(ice.mean(axis=0)),
                "ice": [_floats(line) for line in ice[:ICE_ROWS]],
                "output": output,
            }
        )
    return charts


def number_grid(values: pd.Series) -> np.ndarray:
    """scikit-learn's grid for a number: its unique values when fewer than GRID_POINTS,
    else GRID_POINTS values evenly from the 5th to the 95th percentile."""
    values = values.dropna().to_numpy(dtype="float64")
    unique = np.unique(values)
    if len(unique) < GRID_POINTS:
        return unique
    low, high = mquantiles(values, prob=PERCENTILES, axis=0)
    if np.isclose(low, high):
        return unique[:GRID_POINTS]
    return np.linspace(low, high, num=GRID_POINTS, endpoint=True)


def category_grid(values: pd.Series) -> list[str]:
    """The GRID_POINTS most frequent categories of the sample, in sorted order."""
    return sorted(values.dropna().value_counts().index[:GRID_POINTS].tolist())


def individual_lines(
    model: FittedModel, sample: pd.DataFrame, feature: str, grid, class_index: int
) -> np.ndarray:
    """(rows, grid) predictions of every sample row with `feature` set to each grid value,
    in one batch."""
    batch = pd.concat([sample.assign(**{feature: value}) for value in grid], ignore_index=True)
    encoded, proba = model.predict_encoded(batch)
    outputs = encoded if proba is None else proba[:, class_index]
    return np.asarray(outputs, dtype="float64").reshape(len(grid), len(sample)).T


def _output(model: FittedModel, frame: pd.DataFrame) -> tuple[int, str]:
    """Which of partial_dependence's outputs is kept, and what it measures."""
    if model.task == REGRESSION:
        return 0, "prediction"
    if len(model.classes) == 2:  # as scikit-learn: the second class's probability
        return 1, f"probability of {model.classes[1]}"
    predicted, _ = model.predict_encoded(frame)
    k = int(np.bincount(predicted, minlength=len(model.classes)).argmax())
    return k, f"probability of {model.classes[k]}"


def _floats(values) -> list[float]:
    return [round(float(v), 6) for v in np.asarray(values, dtype="float64")]
