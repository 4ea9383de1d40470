"""Holdout metrics for each task, and the leaderboard order."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

from .problem import REGRESSION

PRIMARY_METRIC = {"regression": "r2", "binary": "accuracy", "multiclass": "accuracy"}
# Metrics where a lower value is better; every other one is better when higher.
LOWER_IS_BETTER = {"rmse", "mae", "log_loss"}
METRIC_LABELS = {
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "f1_macro": "Macro F1",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
}


def score_predictions(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """All metrics of `task` for one set of predictions (class indices for classification)."""
    if task == REGRESSION:
        return {
            "r2": float(skm.r2_score(y_true, y_pred)),
            "rmse": float(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
            "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        }
    scores = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "f1_macro": float(skm.f1_score(y_true, y_pred, average="macro")),
    }
    if proba is not None:
        labels = np.arange(proba.shape[1])
        scores["log_loss"] = float(skm.log_loss(y_true, proba, labels=labels))
        if len(np.unique(y_true)) == proba.shape[1]:
            scores["roc_auc"] = float(
                skm.roc_auc_score(y_true, proba[:, 1])
                if proba.shape[1] == 2
                else skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels)
            )
    return scores


def leaderboard_order(scores: dict[str, dict[str, float]], metric: str) -> list[str]:
    """Candidate names best first by `metric`; ties keep the given (simplest-first) order."""
    sign = 1 if metric in LOWER_IS_BETTER else -1
    names = list(scores)
    return sorted(names, key=lambda n: (sign * scores[n].get(metric, math.nan), names.index(n)))
