"""The leaderboard: models ordered by cross-validation, ties found by a stated test.

How the order is chosen
    Only the cross-validated score on the training part chooses and orders the models;
    the holdout rows are never looked at here, so their score stays an unbiased report
    (with its bootstrap interval, `holdout_interval`).
    1. Candidates with a CV score come first. Each place goes to the simplest remaining
       candidate (the family order of `candidates.CANDIDATES`) that no other remaining
       candidate leads for real; so the best CV mean wins unless a simpler candidate is
       within a near-tie of it. A lead is real when it is larger than NEAR_TIE (0.001
       on scores bounded by 1 — R², accuracy, F1 — or 0.1% of the value for errors such
       as RMSE, MAE and log loss: a difference nobody could notice in use).
    2. A score from one fold (the LSTM's inner validation split at short budgets,
       search.py) leans optimistic: the same rows stopped its training, and it has no
       spread to judge it by. Its lead over a cross-validated candidate is real only
       when it is also significant by the test below (p at most ALPHA); the cross-
       validated side's spread alone is used, which favours the one-fold score, so a
       lead it still cannot show is noise.
    3. Candidates without a CV score (a search that never finished a trial) come last,
       simplest first, and are not compared.

"Tied with #1" and a real lead
    Two candidates' fold scores are compared by the corrected resampled t-test of
    Nadeau and Bengio (2003): the variance of the fold-by-fold differences is inflated
    by (1/k + n_test/n_train), since the folds share training rows, and the statistic
    has k - 1 degrees of freedom. When both searches used the same folds (same fold
    count and rows, so the same seeded split) the test is paired; otherwise it compares
    the two means with each side's corrected variance (a one-fold side adds none). A
    candidate below #1 whose two-sided p-value is above ALPHA is "tied with #1": its gap
    to the leader could be chance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import higher_is_better, metric_score

ALPHA = 0.05
NEAR_TIE = 0.001
# Metrics bounded above by 1, where NEAR_TIE is an absolute difference; on the others it
# is relative to the leader's value.
BOUNDED_METRICS = {"r2", "accuracy", "balanced_accuracy", "f1_macro", "roc_auc"}
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Contender:
    """One trained candidate as the ranking sees it."""

    name: str
    cv_scores: Sequence[float]
    # The rows the CV search ran on; with the fold count it tells whether two candidates
    # were cross-validated on the same folds.
    search_rows: int | None = None


@dataclass(frozen=True)
class Standing:
    """A candidate's place: rank 1 is the recommendation."""

    name: str
    rank: int
    cv_mean: float | None
    cv_std: float | None
    folds: int
    # False for the leader itself, and for candidates that could not be tested (fewer
    # than two fold scores on either side: p_value is None then).
    tied_with_first: bool
    p_value: float | None
    paired: bool = False


def rank_candidates(
    contenders: Sequence[Contender],
    metric: str,
    *,
    simplicity: Sequence[str],
    time_ordered: bool = False,
) -> list[Standing]:
    """The leaderboard, best first (see the module docstring for the rules).

    `simplicity` lists the family names, simplest first; `time_ordered` says the folds
    were time-ordered (TimeSeriesSplit), which changes the test's n_test/n_train.
    """
    sign = 1.0 if higher_is_better(metric) else -1.0
    scored = [c for c in contenders if len(c.cv_scores) >= 1]
    unscored = [c for c in contenders if not c.cv_scores]

    def simple(c: Contender) -> int:
        return simplicity.index(c.name) if c.name in simplicity else len(simplicity)

    remaining = sorted(scored, key=lambda c: (-sign * _mean(c), simple(c)))
    order: list[Contender] = []
    while remaining:
        unbeaten = [
            c
            for c in remaining
            if not any(_real_lead(other, c, metric, sign, time_ordered) for other in remaining)
        ]
        pick = min(unbeaten, key=simple)  # never empty: nothing beats the best mean
        order.append(pick)
        remaining.remove(pick)
    order.extend(sorted(unscored, key=simple))

    leader = order[0]
    standings = []
    for rank, c in enumerate(order, start=1):
        p_value, paired = None, False
        if rank > 1 and c.cv_scores:
            p_value, paired = _test(leader, c, time_ordered)
        standings.append(
            Standing(
                name=c.name,
                rank=rank,
                cv_mean=_mean(c) if c.cv_scores else None,
                cv_std=float(np.std(c.cv_scores)) if c.cv_scores else None,
                folds=len(c.cv_scores),
                tied_with_first=p_value is not None and p_value > ALPHA,
                p_value=p_value,
                paired=paired,
            )
        )
    return standings


def corrected_ttest(
    a: Sequence[float], b: Sequence[float], *, paired: bool, time_ordered: bool = False
) -> float:
    """Two-sided p-value that fold scores `a` and `b` have the same mean (Nadeau–Bengio).

    Paired: on the k differences of the same folds. Unpaired: on the difference of the
    means, each mean's variance corrected for its own folds; the smaller k sets the
    degrees of freedom. One side may hold a single score; the other needs two or more.
    """
    from scipy import stats

    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if paired:
        diff = a - b
        k = len(diff)
        variance = _correction(k, time_ordered) * np.var(diff, ddof=1)
        mean = diff.mean()
    else:
        # A one-fold side has no spread of its own to add (module docstring).
        spread = [x for x in (a, b) if len(x) >= 2]
        k = min(len(x) for x in spread)
        variance = sum(_correction(len(x), time_ordered) * np.var(x, ddof=1) for x in spread)
        mean = a.mean() - b.mean()
    if variance <= 0:
        return 1.0 if mean == 0 else 0.0
    t = mean / math.sqrt(variance)
    return float(2 * stats.t.sf(abs(t), df=k - 1))


def holdout_interval(
    task: str,
    metric: str,
    y_true: np.ndarray,
    predicted: np.ndarray,
    proba: np.ndarray | None,
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> list[float] | None:
    """The 95% percentile-bootstrap interval [low, high] of `metric` on the holdout rows.

    Rows are drawn with replacement, `resamples` times, from a generator seeded with
    `seed`, so a rerun gives the same interval. None when a resample cannot be scored.
    """
    y_true, predicted = np.asarray(y_true), np.asarray(predicted)
    n = len(y_true)
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, n, n)
        value = metric_score(
            task, metric, y_true[rows], predicted[rows], None if proba is None else proba[rows]
        )
        if math.isfinite(value):
            values.append(value)
    if len(values) < resamples // 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [float(low), float(high)]


def _correction(k: int, time_ordered: bool) -> float:
    # n_test / n_train: 1/(k-1) for k-fold; for k time-ordered splits the training part
    # grows from 1 to k blocks, so on average it is (k+1)/2 blocks against one.
    ratio = 2 / (k + 1) if time_ordered else 1 / max(k - 1, 1)
    return 1 / k + ratio


def _same_folds(a: Contender, b: Contender) -> bool:
    return len(a.cv_scores) == len(b.cv_scores) and a.search_rows == b.search_rows


def _test(a: Contender, b: Contender, time_ordered: bool) -> tuple[float | None, bool]:
    """The corrected t-test's p-value for `a` against `b`, and whether it was paired; None
    when neither side has two fold scores."""
    if max(len(a.cv_scores), len(b.cv_scores)) < 2 or min(len(a.cv_scores), len(b.cv_scores)) < 1:
        return None, False
    paired = len(a.cv_scores) >= 2 and _same_folds(a, b)
    p_value = corrected_ttest(a.cv_scores, b.cv_scores, paired=paired, time_ordered=time_ordered)
    return p_value, paired


def _real_lead(a: Contender, b: Contender, metric: str, sign: float, time_ordered: bool) -> bool:
    """Whether `a`'s CV mean leads `b`'s for real (module docstring, 1. and 2.)."""
    gap = sign * (_mean(a) - _mean(b))
    if gap <= _near_tie_margin(metric, _mean(a)):
        return False
    if len(a.cv_scores) >= 2:
        return True
    p_value, _ = _test(a, b, time_ordered)
    return p_value is None or p_value <= ALPHA


def _mean(c: Contender) -> float:
    return float(np.mean(c.cv_scores))


def _near_tie_margin(metric: str, leader: float) -> float:
    return NEAR_TIE if metric in BOUNDED_METRICS else NEAR_TIE * abs(leader)
