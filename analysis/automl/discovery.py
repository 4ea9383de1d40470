"""Training one candidate of a discovery run, in the run folder prepare.py made.

    train_candidate(...)  tune one family by CV on train.parquet (search.py), refit the
                          best on all of it, score it on holdout.parquet, save its model
                          files and its search (search.json) under candidates/<name>/

A second round continues a search later (extension.py) with the same pieces:
`run_search`, `refit_and_score` and the stored search.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .candidates import get_candidate
from .charts import prediction_charts
from .compiled import compile_model
from .dependence import dependence_chart
from .fitted import FittedModel
from .importance import permutation_importance
from .metrics import (
    metric_score,
    score_predictions,
)
from .prepare import RunPlan, encode_target
from .preprocess import prepare_frame
from .ranking import holdout_interval
from .sampling import TIME_BASED
from .search import SearchCancelled, SearchResult, search_candidate

# Share of what is left of the time limit after the search that the LSTM's final fit may use.
FINAL_FIT_SHARE = 0.8
# Seconds a clocked final fit (the LSTM) may take after "finish now": the user is waiting.
FINISH_FIT_SECONDS = 5.0
TRAIN_SCORE_ROWS = 5000
# A candidate's search, kept beside its model files for a second round.
SEARCH_FILE = "search.json"


@dataclass(frozen=True)
class CandidateOutcome:
    """One trained candidate: its tuned hyper-parameters, holdout and CV metrics, costs,
    chart data and model files."""

    name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float
    predict_ms_per_1000: float
    model_bytes: int
    model_dir: str
    # Cross-validation of the chosen parameters on the training part (the run's metric).
    cv_mean: float | None = None
    cv_std: float | None = None
    cv_scores: list[float] = field(default_factory=list)
    # 95% bootstrap interval of the holdout score in the run's metric, [low, high].
    holdout_ci: list[float] | None = None
    # The same metrics as `metrics`, on the training rows: a large gap means overfitting.
    train_metrics: dict[str, float] = field(default_factory=dict)
    # Chart data, see charts.py: plus feature_importance, cv_scores and search_history.
    charts: dict[str, Any] = field(default_factory=dict)
    trials: int = 0
    planned_trials: int = 0
    search_seconds: float = 0.0
    stopped_by: str = "trials"  # "time" when the clock cut the planned trials short


def train_candidate(
    run_dir: Path,
    plan: RunPlan,
    name: str,
    *,
    time_limit: float | None = None,
    progress: Callable[[int, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_finish: Callable[[], bool] | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> CandidateOutcome:
    """Tune the family `name` by CV on the training part, refit the best, score the holdout.

    The search (search.py) only ever sees train.parquet; the best parameters are then
    fitted on all of it, and the holdout, untouched until now, gives the leaderboard's
    metrics, the chart data and the permutation importance. `time_limit` (seconds) bounds
    the whole call; `progress(trials_done, best_cv_score)` is called after each trial and
    `should_stop()` before each fold. Raises SearchCancelled when stopped.
    `should_finish()` ("finish now") ends the search early: the best trial so far is
    refitted, or NothingToKeep is raised when no trial had finished. Exceptions of the
    `interrupts` types pass through the search untouched (search.search_candidate).
    """
    data = TrainingData.load(run_dir, plan)
    started = time.monotonic()
    result = run_search(
        data, plan, name, time_limit, progress, should_stop, should_finish, interrupts=interrupts
    )
    model_dir = run_dir / "candidates" / name
    left = None if time_limit is None else time_limit - (time.monotonic() - started)
    return refit_and_score(data, plan, name, result, save_to=model_dir, time_left=left)


def run_search(
    data: TrainingData,
    plan: RunPlan,
    name: str,
    time_limit: float | None,
    progress: Callable[[int, float | None], None] | None,
    should_stop: Callable[[], bool] | None,
    should_finish: Callable[[], bool] | None,
    warm_start: SearchResult | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> SearchResult:
    """The family's CV search on the training part (search.py); SearchCancelled when stopped."""
    result = search_candidate(
        get_candidate(name),
        data.frame,
        data.y,
        features=plan.features,
        task=plan.task,
        metric=plan.metric,
        seed=plan.seed,
        time_ordered=plan.sample.strategy == TIME_BASED,
        time_limit=time_limit,
        n_classes=None if plan.classes is None else len(plan.classes),
        progress=progress,
        should_stop=should_stop,
        should_finish=should_finish,
        warm_start=warm_start,
        interrupts=interrupts,
    )
    if should_stop is not None and should_stop():
        raise SearchCancelled("The search was stopped.")
    return result


def load_search(model_dir: Path) -> SearchResult:
    """The search a candidate's folder keeps (search.json); FileNotFoundError without one."""
    return SearchResult.from_dict(json.loads((model_dir / SEARCH_FILE).read_text()))


def write_search(model_dir: Path, result: SearchResult) -> None:
    # Written aside and renamed, so a reader never sees half a file.
    partial = model_dir / f"{SEARCH_FILE}.partial"
    partial.write_text(json.dumps(result.to_dict()))
    os.replace(partial, model_dir / SEARCH_FILE)


@dataclass(frozen=True)
class TrainingData:
    train: pd.DataFrame
    holdout: pd.DataFrame
    frame: pd.DataFrame  # the training rows' features, prepared
    y: np.ndarray

    @classmethod
    def load(cls, run_dir: Path, plan: RunPlan) -> TrainingData:
        train = pd.read_parquet(run_dir / "train.parquet")
        return cls(
            train=train,
            holdout=pd.read_parquet(run_dir / "holdout.parquet"),
            frame=prepare_frame(train, plan.features),
            y=encode_target(train[plan.target], plan),
        )


def refit_and_score(
    data: TrainingData,
    plan: RunPlan,
    name: str,
    result: SearchResult,
    *,
    save_to: Path,
    time_left: float | None,
) -> CandidateOutcome:
    """Fit the search's best parameters on all training rows, score the holdout, and save
    the model and the search into `save_to`. `time_left` bounds a clocked fit (the LSTM)."""
    candidate = get_candidate(name)
    holdout = data.holdout
    params = dict(result.params)
    fit_started = time.perf_counter()
    pipeline = candidate.build(params, features=plan.features, task=plan.task, seed=plan.seed)
    estimator = pipeline.named_steps["model"]
    if time_left is not None:
        clock = time_left * FINAL_FIT_SHARE
        if result.stopped_by == "finish":
            clock = min(clock, FINISH_FIT_SECONDS)
        candidate.set_clock(estimator, max(1.0, clock))
    # The prepared columns are at hand: the steps after `prepare` fit on them, as the
    # whole Pipeline would on the training rows' own columns.
    pipeline[1:].fit(data.frame, data.y)
    fit_seconds = time.perf_counter() - fit_started
    if hasattr(estimator, "epochs_"):
        params["epochs"] = estimator.epochs_

    model = FittedModel(
        family=name,
        task=plan.task,
        target=plan.target,
        classes=plan.classes,
        features=plan.features,
        pipeline=pipeline,
    )
    result = replace(result, refit_seconds=round(fit_seconds, 3))
    if result.inner_validation:
        result = _scored_on_held_out_rows(result, model, estimator, data, plan)
    started_predict = time.perf_counter()
    predicted, proba = model.predict_encoded(holdout)
    predict_ms = (time.perf_counter() - started_predict) * 1000 * 1000 / max(len(holdout), 1)
    y_holdout = encode_target(holdout[plan.target], plan)
    metrics = score_predictions(plan.task, y_holdout, predicted, proba)
    holdout_ci = holdout_interval(
        plan.task, plan.metric, y_holdout, predicted, proba, seed=plan.seed
    )
    charts = prediction_charts(
        plan.task, y_holdout, predicted, proba, classes=plan.classes, seed=plan.seed
    )
    charts["feature_importance"] = permutation_importance(
        pipeline,
        holdout,
        y_holdout,
        plan.features.columns,
        task=plan.task,
        score=lambda y, p, q: metric_score(plan.task, plan.metric, y, p, q),
        metric=plan.metric,
        seed=plan.seed,
    )
    charts["partial_dependence"] = dependence_chart(
        model,
        holdout,
        charts["feature_importance"],
        seed=plan.seed,
        until=None if time_left is None else fit_started + time_left,
    )
    charts["cv_scores"] = result.cv_scores
    charts["search_history"] = result.chart_history()
    charts["search_rows"] = result.rows  # fewer than train_rows when the table was too big
    if result.quick_cv:
        charts["quick_cv"] = True  # the budget only allowed a quick CV (search.py, 4.)
    if result.inner_validation:
        charts["inner_validation_rows"] = len(data.y) - estimator.validation_start_
    files = model.save(save_to)
    compile_model(model, save_to)  # serving's fast path; the model files stay the reference
    write_search(save_to, result)
    return CandidateOutcome(
        name=name,
        params=params,
        metrics=metrics,
        fit_seconds=round(fit_seconds, 3),
        predict_ms_per_1000=round(predict_ms, 3),
        model_bytes=sum(f.stat().st_size for f in files),
        model_dir=str(save_to.parent / name),
        cv_mean=result.cv_mean,
        cv_std=result.cv_std,
        cv_scores=result.cv_scores,
        holdout_ci=holdout_ci,
        train_metrics=_train_metrics(model, data.train, plan),
        charts=charts,
        trials=result.trials,
        planned_trials=result.planned_trials,
        search_seconds=round(result.seconds, 3),
        stopped_by=result.stopped_by,
    )


def _scored_on_held_out_rows(
    result: SearchResult, model: FittedModel, estimator, data: TrainingData, plan: RunPlan
) -> SearchResult:
    """`result` with the final fit's score on the training rows it held out for itself
    (search.py, 4.: an inner validation split) as its one CV score."""
    start = estimator.validation_start_
    predicted, proba = model.predict_encoded(data.train.iloc[start:])
    score = float(metric_score(plan.task, plan.metric, data.y[start:], predicted, proba))
    return replace(result, cv_scores=[score], folds=1)


def _train_metrics(model: FittedModel, train: pd.DataFrame, plan: RunPlan) -> dict[str, float]:
    """Metrics on (up to TRAIN_SCORE_ROWS of) the training rows, to compare with the holdout."""
    if len(train) > TRAIN_SCORE_ROWS:
        train = train.sample(TRAIN_SCORE_ROWS, random_state=plan.seed)
    predicted, proba = model.predict_encoded(train)
    return score_predictions(plan.task, encode_target(train[plan.target], plan), predicted, proba)
