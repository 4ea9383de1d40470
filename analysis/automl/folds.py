"""Cross-validation of one parameter set: the folds, the rows a cut-down search keeps,
and the fold scores (search.py runs the trials).

Classes are numbered 0..n_classes-1. A fold may lack a rare class: its model is trained
on the classes it has, renumbered (XGBoost needs contiguous labels), and its
probabilities are widened back to every class before scoring.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

from .metrics import metric_score
from .problem import REGRESSION


class SearchCancelled(Exception):  # noqa: N818 - the name says what happened
    """The search was asked to stop (the run was cancelled)."""


class FinishNow(Exception):  # noqa: N818
    """Raised between folds to leave the trial in progress when asked to finish now."""


@dataclass
class Fold:
    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray


def cv_splits(
    y: np.ndarray, *, task: str, folds: int, time_ordered: bool, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fold indices: time-ordered, stratified by class, or shuffled k-fold."""
    rows = np.arange(len(y))
    if time_ordered:
        return list(TimeSeriesSplit(n_splits=folds).split(rows))
    if task != REGRESSION:
        counts = np.bincount(np.asarray(y, dtype="int64"))
        if counts[counts > 0].max() >= folds:
            with warnings.catch_warnings():
                # Rare classes may miss some folds; the search handles that.
                warnings.simplefilter("ignore", UserWarning)
                splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                return list(splitter.split(rows, y))
    return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(rows))


def search_subset(
    y: np.ndarray, rows: int, *, task: str, folds: int, time_ordered: bool, seed: int
) -> np.ndarray:
    """Positions of the `rows` training rows a cut-down search uses, in table order.

    The latest rows of a time-ordered sample; otherwise a seeded random subset in which
    every class keeps at least `folds` rows (or all it has), so each fold can learn it.
    """
    n = len(y)
    if time_ordered:
        return np.arange(n - rows, n)
    keep = np.random.default_rng(seed).choice(n, rows, replace=False)
    if task != REGRESSION:
        for label in np.unique(y):
            keep = np.union1d(keep, np.flatnonzero(y == label)[:folds])
    return np.sort(keep)


def cross_validate(
    candidate,
    params: dict[str, Any],
    fold_data: list[Fold],
    *,
    task: str,
    metric: str,
    seed: int,
    n_classes: int | None,
    deadline: float | None,
    should_stop: Callable[[], bool] | None,
    should_finish: Callable[[], bool] | None = None,
) -> tuple[list[float], dict[str, Any]]:
    """Fold scores of one parameter set, and the settings the folds learned on the way
    (each the mean over the folds, as a whole number: XGBoost's trees by early stopping)."""
    scores, learned = [], []
    for index, fold in enumerate(fold_data):
        check_cancel(should_stop)
        if should_finish is not None and should_finish():
            raise FinishNow
        train_y, present = _contiguous(fold.train_y, task)
        valid_y = fold.valid_y
        # The fold's preprocessing was fitted once, for every trial (Fold): only the
        # Pipeline's last step is fitted here.
        settings = candidate.fold_params(dict(params))
        estimator = candidate.build_estimator(settings, task=task, seed=seed)
        left = None if deadline is None else deadline - time.monotonic()
        seconds = None if left is None else max(0.5, left / (len(fold_data) - index))
        eval_x, eval_y = fold.valid_x, valid_y
        if present is not None:
            # Validation rows of a class the fold never trained on cannot steer it.
            keep = np.isin(valid_y, present)
            eval_x, eval_y = fold.valid_x[keep], np.searchsorted(present, valid_y[keep])
        learned.append(
            candidate.fit_fold(estimator, fold.train_x, train_y, eval_x, eval_y, seconds=seconds)
        )
        if task == REGRESSION:
            predicted, proba = np.asarray(estimator.predict(fold.valid_x), dtype="float64"), None
        else:
            proba = _full_proba(estimator.predict_proba(fold.valid_x), present, n_classes)
            predicted = proba.argmax(axis=1)
        scores.append(metric_score(task, metric, valid_y, predicted, proba))
    extras = {name: int(round(np.mean([f[name] for f in learned]))) for name in learned[0]}
    return scores, extras


def _contiguous(y: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Class indices renumbered 0..m-1 when a fold lacks some classes (XGBoost needs that)."""
    if task == REGRESSION:
        return y, None
    present = np.unique(y)
    if len(present) and present[-1] == len(present) - 1:
        return y, None
    return np.searchsorted(present, y), present


def _full_proba(proba, present: np.ndarray | None, n_classes: int | None) -> np.ndarray:
    proba = np.asarray(proba, dtype="float64")
    width = n_classes or proba.shape[1]
    full = np.zeros((proba.shape[0], width))
    columns = np.arange(proba.shape[1]) if present is None else present
    full[:, columns] = proba
    total = full.sum(axis=1, keepdims=True)
    return full / np.where(total > 0, total, 1.0)


def check_cancel(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise SearchCancelled("The search was stopped.")
