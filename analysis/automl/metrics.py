"""Holdout metrics for each task and calibration; the leaderboard order is in ranking.py."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

from .problem import REGRESSION

PRIMARY_METRIC = {"regression": "r2", "binary": "accuracy", "multiclass": "accuracy"}
# Metrics a user may rank by instead: those the exported evaluate.py computes exactly
# from running sums, so the export's "score" is always the leaderboard's metric.
RANKING_METRICS = {
    "regression": ("r2", "rmse", "mae"),
    "binary": ("accuracy", "balanced_accuracy", "f1_macro", "log_loss"),
    "multiclass": ("accuracy", "balanced_accuracy", "f1_macro", "log_loss"),
}
# Metrics where a lower value is better; every other one is better when higher.
LOWER_IS_BETTER = {"rmse", "mae", "mape", "log_loss", "ece"}
METRIC_LABELS = {
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
    "mape": "MAPE",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "f1_macro": "Macro F1",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
    "ece": "Expected calibration error",
}
# Bins of the reliability diagram and of the expected calibration error.
CALIBRATION_BINS = 10
# MAPE divides by the actual values, so it is left out when any of them is this close to 0.
MAPE_MIN_ABS = 1e-8


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def score_predictions(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """All metrics of `task` for one set of predictions (class indices for classification)."""
    y_true = np.asarray(y_true)
    if task == REGRESSION:
        scores = {
            "r2": float(skm.r2_score(y_true, y_pred)),
            "rmse": float(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
            "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        }
        if len(y_true) and np.abs(y_true).min() > MAPE_MIN_ABS:
            scores["mape"] = float(skm.mean_absolute_percentage_error(y_true, y_pred))
        return scores
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
        scores["ece"] = expected_calibration_error(y_true, proba)
    return scores


def reliability_bins(
    y_true: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """The reliability diagram of the predicted class: per confidence bin, how often right.

    Each non-empty bin of equal width on [0, 1] gives its mean confidence (the predicted
    class's probability), its accuracy and its row count.
    """
    proba = np.asarray(proba, dtype="float64")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        if inside.any():
            rows.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "confidence": float(confidence[inside].mean()),
                    "accuracy": float(correct[inside].mean()),
                    "count": int(inside.sum()),
                }
            )
    return rows


def expected_calibration_error(
    y_true: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Row-weighted mean gap between confidence and accuracy over the reliability bins."""
    table = reliability_bins(y_true, proba, bins)
    total = sum(row["count"] for row in table)
    if not total:
        return math.nan
    return float(
        sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in table) / total
    )


def metric_score(
    task: str, metric: str, y_true: np.ndarray, y_pred: np.ndarray, proba=None
) -> float:
    """One metric of one set of predictions (the search scores each CV fold with this).

    The primary metrics are computed directly: scikit-learn's input checks cost more than
    the arithmetic when the search and the permutation importance call this thousands of
    times. The values are the same as in `score_predictions`.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if metric == "accuracy" and len(y_true):
        return float(np.mean(y_true == y_pred))
    if task == REGRESSION and metric in ("r2", "rmse", "mae") and len(y_true) > 1:
        error = y_true.astype("float64") - y_pred.astype("float64")
        if metric == "rmse":
            return float(math.sqrt(np.mean(error**2)))
        if metric == "mae":
            return float(np.mean(np.abs(error)))
        total = float(np.sum((y_true - y_true.mean()) ** 2))
        if total > 0:
            return 1.0 - float(np.sum(error**2)) / total
    if task != REGRESSION and len(y_true):
        if metric == "balanced_accuracy":
            return float(skm.balanced_accuracy_score(y_true, y_pred))
        if metric == "f1_macro":
            return float(skm.f1_score(y_true, y_pred, average="macro"))
        if metric == "log_loss" and proba is not None:
            return float(skm.log_loss(y_true, proba, labels=np.arange(proba.shape[1])))
    value = score_predictions(task, y_true, y_pred, proba).get(metric)
    return math.nan if value is None else value
