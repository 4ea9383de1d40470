"""Chart data of one candidate's holdout predictions: plain JSON-able dicts and lists.

Keys (the run page draws each with Plotly):
    regression      actual_vs_predicted {actual, predicted}, residuals {predicted, residual}
                    — at most MAX_POINTS rows, a seeded subsample
    classification  confusion_matrix {labels, matrix}, roc / pr {curves: [...]} (one curve
                    for a binary target, one per class against the rest otherwise),
                    reliability {bins, ece}
The trainer adds feature_importance, cv_scores and search_history.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from .metrics import expected_calibration_error, reliability_bins
from .problem import REGRESSION

MAX_POINTS = 1000
MAX_CURVE_POINTS = 200
# Per-class curves beyond this many classes would be unreadable; the most frequent are kept.
MAX_CURVES = 20


def prediction_charts(
    task: str,
    y_true: np.ndarray,
    predicted: np.ndarray,
    proba: np.ndarray | None,
    *,
    classes: list | None,
    seed: int,
) -> dict:
    """Chart data for holdout predictions (class indices into `classes` when classifying)."""
    y_true = np.asarray(y_true)
    predicted = np.asarray(predicted)
    if task == REGRESSION:
        rows = _subsample(len(y_true), seed)
        actual, guess = y_true[rows], predicted[rows]
        return {
            "actual_vs_predicted": {"actual": _floats(actual), "predicted": _floats(guess)},
            "residuals": {"predicted": _floats(guess), "residual": _floats(actual - guess)},
        }
    labels = [str(label) for label in classes]
    indices = np.arange(len(labels))
    charts = {
        "confusion_matrix": {
            "labels": labels,
            "matrix": skm.confusion_matrix(y_true, predicted, labels=indices).tolist(),
        }
    }
    if proba is not None:
        charts["roc"], charts["pr"] = _curves(y_true, proba, labels)
        charts["reliability"] = {
            "bins": reliability_bins(y_true, proba),
            "ece": expected_calibration_error(y_true, proba),
        }
    return charts


def _curves(y_true: np.ndarray, proba: np.ndarray, labels: list[str]) -> tuple[dict, dict]:
    if len(labels) == 2:
        chosen = [1]
    else:
        counts = np.bincount(y_true, minlength=len(labels))
        chosen = sorted(np.argsort(-counts, kind="stable")[:MAX_CURVES].tolist())
    roc, pr = [], []
    for index in chosen:
        positive = y_true == index
        if positive.all() or not positive.any():
            continue  # a curve needs both positive and negative rows
        fpr, tpr, _ = skm.roc_curve(positive, proba[:, index])
        precision, recall, _ = skm.precision_recall_curve(positive, proba[:, index])
        keep = _thin(len(fpr))
        roc.append(
            {
                "label": labels[index],
                "fpr": _floats(fpr[keep]),
                "tpr": _floats(tpr[keep]),
                "auc": float(skm.auc(fpr, tpr)),
            }
        )
        keep = _thin(len(precision))
        pr.append(
            {
                "label": labels[index],
                "precision": _floats(precision[keep]),
                "recall": _floats(recall[keep]),
                "average_precision": float(skm.average_precision_score(positive, proba[:, index])),
            }
        )
    return {"curves": roc}, {"curves": pr}


def _subsample(n: int, seed: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_POINTS, replace=False))


def _thin(n: int) -> np.ndarray:
    """Evenly spaced indices, first and last kept, at most MAX_CURVE_POINTS of them."""
    if n <= MAX_CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))


def _floats(values) -> list[float]:
    return [round(float(v), 6) for v in values]
