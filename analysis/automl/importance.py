"""Permutation feature importance on the holdout, over the table's own columns.

scikit-learn's `permutation_importance` on the fitted Pipeline, which takes the columns
the user knows (a date column, a category) rather than the encoded model inputs: each
column's values are shuffled among the holdout rows, and the drop in the run's metric is
that column's importance (mean ± std over repeats).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .fitted import encoded_output
from .metrics import higher_is_better

MAX_ROWS = 1000
REPEATS = 3
TOP = 20


def permutation_importance(
    pipeline,
    frame: pd.DataFrame,
    y: np.ndarray,
    columns: list[str],
    *,
    task: str,
    score: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float],
    metric: str,
    seed: int,
    repeats: int = REPEATS,
    top: int = TOP,
) -> list[dict]:
    """The `top` columns by importance: [{feature, importance, std}], most important first.

    `score(y, pred, proba)` is the run's metric of encoded predictions (fitted.py
    `encoded_output`); importance is the score lost when the column is shuffled, so it is
    positive for a useful column whichever way the metric points. At most MAX_ROWS
    holdout rows, drawn with `seed`, which also seeds the shuffles.
    """
    from sklearn.inspection import permutation_importance as permute

    if not columns:
        return []
    rng = np.random.default_rng(seed)
    frame = frame[list(columns)]
    if len(frame) > MAX_ROWS:
        keep = np.sort(rng.choice(len(frame), MAX_ROWS, replace=False))
        frame, y = frame.iloc[keep], np.asarray(y)[keep]
    sign = 1.0 if higher_is_better(metric) else -1.0

    def scorer(fitted, x, y_true):
        # scikit-learn counts a higher score as better.
        return sign * score(y_true, *encoded_output(fitted, task, x))

    found = permute(
        pipeline,
        frame.reset_index(drop=True),
        np.asarray(y),
        scoring=scorer,
        n_repeats=repeats,
        random_state=seed,
    )
    rows = [
        {"feature": column, "importance": float(mean), "std": float(std)}
        for column, mean, std in zip(
            columns, found.importances_mean, found.importances_std, strict=True
        )
    ]
    rows.sort(key=lambda row: -row["importance"])
    return rows[:top]
