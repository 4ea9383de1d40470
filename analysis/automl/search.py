"""Hyper-parameter search for one candidate family, with cross-validation, inside a time limit.

How one search spends its limit (`search_candidate`)
    1. The training part is split into k folds (stratified for classes, time-ordered
       for time-based samples); the preprocessing is fitted on each fold's training rows
       only, once per fold, and reused by every trial.
    2. The first trial is the family's cheap, sensible `init`, the next ones its
       `portfolio` of diverse good settings (candidates/base.py); then Optuna's TPE
       sampler, seeded with the run's seed, proposes parameters. Each trial is scored
       by the mean of the run's metric over the folds.
    3. The number of trials is fixed before the search starts, from the table's size,
       the family's cost per cell and the time limit (`trial_count`), never from how fast
       trials happened to run: the same seed, data and budget give the same trials, so
       the same leaderboard. The clock is only a safety stop: when the next trial and the
       final fit would not fit in what is left, the search ends early and says so
       (`stopped_by == "time"`); such a run may differ from a rerun.
    4. When the limit cannot cover the usual CV of one trial and the final fit (by the
       family's `fit_overhead`; the LSTM below about 13 s, a run budget under about
       38 s), the family's first parameters are still scored on rows they did not
       train on, and the leaderboard says how beside the score:
       - a family whose fit holds out rows of its own (`validation_split`: the LSTM's
         last 10%, for early stopping) gets an inner validation split: no search; the
         final fit's score on those rows is the estimate (`inner_validation`, one
         "fold"). Its preprocessing was fitted on every training row, and the same rows
         chose when training stopped, so the estimate leans optimistic; a second fit
         of a network costs more than such a limit has (measured: each Keras fit
         carries seconds of set-up);
       - any other family gets a quick CV (`quick_cv`): one trial, 2 folds of at most
         QUICK_CV_ROWS rows.
    5. On a table too big for one trial on every row to fit beside the final fit, the
       search runs on a seeded subset of rows (the latest ones for time-ordered samples)
       of the size the cost model allows, never under MIN_SEARCH_ROWS (`search_rows`, budget.py);
       the final fit still uses every row.
    6. `should_stop()` is asked before every fold, so a cancel ends the search within
       one fold's fit (SearchCancelled).
    7. `should_finish()` ("finish now") is asked before every fold too: the trial in
       progress is dropped and the best trial so far is kept (`stopped_by == "finish"`);
       when no trial has a score yet there is nothing to keep (NothingToKeep).

A second round (`warm_start`, second_round.py)
    Time the first round leaves (candidates that finish early) goes to the searches that
    can still improve. A search has converged (convergence.py) when it has nothing to
    tune, ran its family's `max_trials`, or its last PLATEAU_TRIALS trials improved its
    best CV score by no more than PLATEAU_GAIN of it. Any other search may be continued:
    the same rows and folds, an Optuna study given the first round's scored trials
    (`study.add_trials`) and a sampler seeded from the run's seed and the trials so far,
    so it proposes new points rather than the first round's again. Its trials are bounded
    by the family's `max_trials` and by the clock alone, since they spend what the first
    round happened to leave: a run whose second round changed a candidate may differ
    from a rerun; its first round does not. Knowing a typical trial and the final fit
    its first round measured (`refit_seconds`), it starts a trial while one more and
    that fit still end in its limit, and lets the fits that stop on a clock run until
    only that fit's room is left (budget.fits_end), where a first search keeps
    SEARCH_SHARE of its limit for them. A family whose folds stop on a clock starts a
    last trial, cut short, while half a typical one is left before then
    (budget.last_trial_fits), so a second round of slow trials ends near its limit.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .budget import (
    SEARCH_SHARE,
    fits_end,
    fold_count,
    last_trial_fits,
    refit_room,
    search_rows,
    search_seconds,
    trial_count,
)
from .candidates.base import Dimension
from .convergence import best_trial, converged_by
from .errors import UserFacingError
from .folds import (
    FinishNow,
    Fold,
    SearchCancelled,
    check_cancel,
    cross_validate,
    cv_splits,
    search_subset,
)
from .metrics import higher_is_better
from .preprocess import FeatureSpec, build_preprocessor

# Most rows of the quick CV a too-short limit gets (see the module docstring, 4.).
QUICK_CV_ROWS = 2000


class NothingToKeep(UserFacingError):
    """The search was asked to finish before any trial gave a score."""


@dataclass
class TrialRecord:
    number: int
    params: dict[str, Any]
    score: float | None
    fold_scores: list[float]
    seconds: float
    error: str | None = None


@dataclass
class SearchResult:
    """The best parameters found and how the search got there."""

    params: dict[str, Any]  # estimator keyword arguments, fixed settings included
    cv_scores: list[float]
    planned_trials: int
    folds: int
    stopped_by: str  # "trials" (all planned trials ran), "time", or "finish" (finish now)
    seconds: float
    history: list[TrialRecord] = field(default_factory=list)
    rows: int | None = None  # the training rows the CV search used
    # The subset's size as drawn (`search_subset`, folds.py; `rows` adds the rows kept for rare
    # classes), so a second round draws the same rows again. None: every row.
    drawn_rows: int | None = None
    quick_cv: bool = False  # the limit only allowed a quick CV (module docstring, 4.)
    # The limit allowed no search: the final fit's own held-out rows score it (4.).
    inner_validation: bool = False
    # Why the search cannot improve any more ("" when it can), see `converged_by`.
    converged: str = ""
    # The final fit's seconds on all training rows (set once it ran, discovery.py): a
    # second round keeps room for a fit like it.
    refit_seconds: float | None = None

    @property
    def cv_mean(self) -> float | None:
        return float(np.mean(self.cv_scores)) if self.cv_scores else None

    @property
    def cv_std(self) -> float | None:
        return float(np.std(self.cv_scores)) if self.cv_scores else None

    @property
    def trials(self) -> int:
        return len(self.history)

    def chart_history(self) -> list[dict[str, Any]]:
        """Score per trial for the search-history chart."""
        return [
            {"trial": t.number + 1, "score": t.score, "seconds": round(t.seconds, 3)}
            for t in self.history
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: what a second round needs to continue this search."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        fields = dict(data)
        fields["history"] = [TrialRecord(**t) for t in data.get("history", [])]
        return cls(**fields)


def search_candidate(
    candidate,
    frame: pd.DataFrame,
    y: np.ndarray,
    *,
    features: FeatureSpec,
    task: str,
    metric: str,
    seed: int,
    time_ordered: bool = False,
    time_limit: float | None = None,
    n_classes: int | None = None,
    progress: Callable[[int, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_finish: Callable[[], bool] | None = None,
    warm_start: SearchResult | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> SearchResult:
    """Search `candidate`'s space by k-fold CV on `frame` (prepared features) and `y`.

    `y` holds floats, or class indices 0..n_classes-1. Returns the best trial's
    parameters and fold scores; raises RuntimeError when every trial failed, and
    SearchCancelled when `should_stop()` said so. `warm_start`, the result of an earlier
    search of the same candidate on the same data, continues it (a second round): its
    trials are kept and new ones are added until `max_trials` or the clock. Exceptions
    of the `interrupts` types (a worker's soft time limit) end the search as they are:
    any other exception in a trial fails that trial only.
    """
    import optuna

    started = time.monotonic()
    deadline = None if time_limit is None else started + time_limit
    y = np.asarray(y)
    probe_rows = min(len(frame), 2000)
    probe = build_preprocessor(features, task, seed).fit(frame.iloc[:probe_rows], y[:probe_rows])
    n_cols = len(probe.get_feature_names_out())
    space = candidate.search_space(len(frame), n_cols, task)
    folds = fold_count(len(frame), space)
    quick = time_limit is not None and space.fit_overhead * (folds + 1) > SEARCH_SHARE * time_limit
    if warm_start is not None:
        # The same folds of the same rows, or the scores of the two rounds do not compare.
        quick, folds = warm_start.quick_cv, warm_start.folds
    elif quick and candidate.validation_split:
        return SearchResult(
            params=space.params(space.init),
            cv_scores=[],  # filled in after the final fit (discovery.py)
            planned_trials=0,
            folds=0,
            stopped_by="time",
            seconds=time.monotonic() - started,
            inner_validation=True,
            converged="the budget allowed one fit, scored on the rows it held out",
        )
    elif quick:
        folds = 2
    seconds = (
        None
        if time_limit is None
        else search_seconds(space, n_rows=len(frame), n_cols=n_cols, time_limit=time_limit)
    )
    if warm_start is not None:
        rows = warm_start.drawn_rows or len(frame)
    elif quick:
        rows = min(len(frame), QUICK_CV_ROWS)
    else:
        rows = search_rows(space, n_rows=len(frame), n_cols=n_cols, folds=folds, seconds=seconds)
    drawn = rows if rows < len(frame) else None
    if rows < len(frame):
        keep = search_subset(y, rows, task=task, folds=folds, time_ordered=time_ordered, seed=seed)
        frame, y = frame.iloc[keep], y[keep]
    splits = cv_splits(y, task=task, folds=folds, time_ordered=time_ordered, seed=seed)
    fold_data = []
    for train_rows, valid_rows in splits:
        check_cancel(should_stop)
        preprocessor = build_preprocessor(features, task, seed)
        fold_data.append(
            Fold(
                preprocessor.fit_transform(frame.iloc[train_rows], y[train_rows]),
                y[train_rows],
                preprocessor.transform(frame.iloc[valid_rows]),
                y[valid_rows],
            )
        )
    planned = trial_count(space, n_rows=len(frame), n_cols=n_cols, folds=folds, seconds=seconds)
    if quick:
        planned = 1
    history = [] if warm_start is None else list(warm_start.history)
    first = len(history)
    if warm_start is not None:
        # What the first round left is spent by the clock (module docstring).
        planned = max(0, space.max_trials - first) if space.dimensions else 0
    maximize = higher_is_better(metric)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            # A new seed per round: the same one would propose the first round's
            # random startup points again.
            seed=seed + first,
            n_startup_trials=max(3, min(10, (first + planned) // 3)),
            multivariate=True,
        )
    study = optuna.create_study(direction="maximize" if maximize else "minimize", sampler=sampler)
    distributions = {name: _distribution(dim) for name, dim in space.dimensions.items()}
    if warm_start is not None:
        study.add_trials(_earlier_trials(history, distributions))
    tried = [{name: t.params.get(name) for name in distributions} for t in history]
    for start in (space.init, *space.portfolio) if space.dimensions else ():
        if start not in tried:  # a second round still tries what the first could not
            study.enqueue_trial(start)

    best: TrialRecord | None = best_trial(history, maximize)
    best_extras: dict[str, Any] = {}
    stopped_by = "trials"
    # A second round plans its next trial by a typical earlier one: the slowest is often
    # the first trial of all, which also warmed up the process.
    slowest = float(np.median([t.seconds for t in history])) if history else 0.0
    # Fits that stop themselves on a clock (XGBoost's folds, the LSTM) end in time for
    # the final fit (budget.fits_end).
    refit_seconds = None if warm_start is None else warm_start.refit_seconds
    fit_deadline = (
        None
        if time_limit is None
        else fits_end(
            started,
            time_limit,
            typical_trial=slowest if history else None,
            folds=folds,
            refit_seconds=refit_seconds,
        )
    )
    for number in range(first, first + planned):
        check_cancel(should_stop)
        if should_finish is not None and should_finish():
            stopped_by = "finish"
            break
        folds_end = fit_deadline
        if number and deadline is not None:
            # Room for one more trial like the slowest so far, and the final fit after it;
            # a continued search whose folds stop on a clock may cut its last trial short,
            # to end where the final fit's room begins.
            final_fit = refit_room(
                slowest, folds=folds, time_limit=time_limit, refit_seconds=refit_seconds
            )
            now = time.monotonic()
            if warm_start is not None and candidate.folds_stop_on_clock:
                folds_end = min(fit_deadline, deadline - final_fit)
                fits = last_trial_fits(now, folds_end, typical_trial=slowest)
            else:
                fits = now + slowest + final_fit <= deadline
            if not fits:
                stopped_by = "time"
                break
        trial_started = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trial = study.ask(distributions)
        tuned = dict(trial.params) if space.dimensions else {}
        params = space.params(tuned)
        try:
            fold_scores, extras = cross_validate(
                candidate,
                params,
                fold_data,
                task=task,
                metric=metric,
                seed=seed,
                n_classes=n_classes,
                deadline=folds_end,
                should_stop=should_stop,
                should_finish=should_finish,
            )
        except SearchCancelled:
            raise
        except FinishNow:
            stopped_by = "finish"
            break
        except interrupts:
            raise  # the caller's own stop (a worker's time limit) is no failed trial
        except Exception as exc:  # a bad corner of the space fails the trial, not the search
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            record = TrialRecord(
                number, params, None, [], time.monotonic() - trial_started, str(exc)[:300]
            )
            history.append(record)
            continue
        score = float(np.mean(fold_scores))
        if math.isnan(score):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, score)
        record = TrialRecord(
            number,
            {**params, **extras},
            None if math.isnan(score) else score,
            fold_scores,
            time.monotonic() - trial_started,
        )
        history.append(record)
        slowest = max(slowest, record.seconds)
        if record.score is not None and (
            best is None or (record.score > best.score if maximize else record.score < best.score)
        ):
            best, best_extras = record, extras
        if progress is not None:
            progress(len(history), None if best is None else best.score)
    if best is None and stopped_by == "finish":
        raise NothingToKeep("The run was finished before this model completed a trial.")
    if best is None:
        reasons = sorted({t.error for t in history if t.error}) or ["no trial gave a score"]
        raise RuntimeError(f"Every search trial failed: {reasons[0]}")
    return SearchResult(
        params={**best.params, **best_extras},
        cv_scores=[float(s) for s in best.fold_scores],
        planned_trials=first + planned,
        folds=folds,
        stopped_by=stopped_by,
        seconds=time.monotonic() - started,
        history=history,
        rows=len(frame),
        drawn_rows=drawn,
        quick_cv=quick,
        converged=converged_by(
            history, max_trials=space.max_trials, tunable=bool(space.dimensions), maximize=maximize
        ),
        refit_seconds=refit_seconds,
    )


def _earlier_trials(history: list[TrialRecord], distributions: dict) -> list:
    """A first round's scored trials as Optuna's, so the sampler learns from them."""
    import optuna

    trials = []
    for record in history:
        if record.score is None:
            continue
        try:
            trials.append(
                optuna.trial.create_trial(
                    params={name: record.params[name] for name in distributions},
                    distributions=distributions,
                    value=record.score,
                )
            )
        except (KeyError, ValueError):  # outside today's space: the sampler does without it
            continue
    return trials


def _distribution(dim: Dimension):
    import optuna

    if dim.kind == "int":
        return optuna.distributions.IntDistribution(int(dim.low), int(dim.high), log=dim.log)
    if dim.kind == "float":
        return optuna.distributions.FloatDistribution(dim.low, dim.high, log=dim.log)
    return optuna.distributions.CategoricalDistribution(dim.choices)
