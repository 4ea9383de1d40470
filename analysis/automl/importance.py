"""Permutation feature importance on the holdout, over the table's own columns.

Importance is measured on the columns the user knows (a date column, a category), not on
the encoded model inputs: each column's values are shuffled among the holdout rows, and
the drop in the run's metric is that column's importance (mean ± std over repeats).
All shuffled copies are predicted in one call, which keeps slow predictors (the LSTM) fast.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .metrics import higher_is_better

MAX_ROWS = 1000
REPEATS = 3
TOP = 20


def permutation_importance(
    frame: pd.DataFrame,
    y: np.ndarray,
    columns: list[str],
    *,
    predict: Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray | None]],
    score: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float],
    metric: str,
    seed: int,
    repeats: int = REPEATS,
    top: int = TOP,
) -> list[dict]:
    """The `top` columns by importance: [{feature, importance, std}], most important first.

    `predict(frame)` returns (predictions, probabilities or None) and `score(y, pred,
    proba)` the metric; importance is the score lost when the column is shuffled, so it is
    positive for a useful column whichever way the metric points.
    """
    rng = np.random.default_rng(seed)
    if len(frame) > MAX_ROWS:
        keep = np.sort(rng.choice(len(frame), MAX_ROWS, replace=False))
        frame, y = frame.iloc[keep], np.asarray(y)[keep]
    frame = frame.reset_index(drop=True)
    y = np.asarray(y)
    n = len(frame)
    baseline = score(y, *predict(frame))
    copies = []
    for column in columns:
        for _ in range(repeats):
            shuffled = frame.copy()
            shuffled[column] = frame[column].to_numpy()[rng.permutation(n)]
            copies.append(shuffled)
    if not copies:
        return []
    predicted, proba = predict(pd.concat(copies, ignore_index=True))
    sign = 1.0 if higher_is_better(metric) else -1.0
    rows = []
    for i, column in enumerate(columns):
        drops = []
        for r in range(repeats):
            part = slice((i * repeats + r) * n, (i * repeats + r + 1) * n)
            value = score(y, predicted[part], None if proba is None else proba[part])
            drops.append(sign * (baseline - value))
        rows.append(
            {
                "feature": column,
                "importance": float(np.mean(drops)),
                "std": float(np.std(drops)),
            }
        )
    rows.sort(key=lambda row: -row["importance"])
    return rows[:top]
