"""A discovery run as two steps over a run folder: prepare the data, then train a candidate.

    prepare_run(...)      sample → task → checks → features →
                          train.parquet + holdout.parquet + plan.json
    train_candidate(...)  tune one family by CV on train.parquet (search.py), refit the
                          best on all of it, score it on holdout.parquet, save its model
                          files and its search (search.json) under candidates/<name>/
    extend_candidate(...) a second round: continue that search from search.json; when
                          it finds a better CV score, refit and score the new best into
                          candidates/<name>.second-round/, which `adopt_extension`
                          then swaps in

The holdout is split off once, before any candidate sees the data, so every candidate
is scored on the same rows and none of them trained on them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .candidates import get_candidate
from .charts import prediction_charts
from .compiled import compile_model
from .errors import ProblemError
from .fitted import FittedModel
from .importance import permutation_importance
from .ingest import IngestOptions
from .kinds import DATETIME, DatasetProfile
from .metrics import (
    PRIMARY_METRIC,
    RANKING_METRICS,
    higher_is_better,
    metric_score,
    score_predictions,
)
from .preprocess import FeatureSpec, build_preprocessor, feature_spec, prepare_frame
from .problem import (
    REGRESSION,
    check_target,
    class_labels,
    profiled_as_class_label,
    resolve_task,
)
from .quality import ERROR, target_findings
from .ranking import holdout_interval
from .sampling import RANDOM, STRATIFIED, TIME_BASED, SampleResult, sample_table
from .search import SearchCancelled, SearchResult, search_candidate

HOLDOUT_SHARE = 0.2
MIN_ROWS = 20
# Share of what is left of the time limit after the search that the LSTM's final fit may use.
FINAL_FIT_SHARE = 0.8
# Seconds a clocked final fit (the LSTM) may take after "finish now": the user is waiting.
FINISH_FIT_SECONDS = 5.0
TRAIN_SCORE_ROWS = 5000
# A candidate's search, kept beside its model files for a second round.
SEARCH_FILE = "search.json"


@dataclass(frozen=True)
class RunPlan:
    """Everything the candidates share: the problem, the features and the data split."""

    target: str
    task: str
    detected_task: str
    metric: str
    classes: list | None
    features: FeatureSpec
    seed: int
    sample: SampleResult
    train_rows: int
    holdout_rows: int
    # Target findings (quality.Finding as dicts) worth telling the user: imbalance, leakage.
    findings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["features"] = self.features.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunPlan:
        fields = dict(data)
        fields["features"] = FeatureSpec.from_dict(data["features"])
        fields["sample"] = SampleResult(**data["sample"])
        return cls(**fields)

    @classmethod
    def load(cls, run_dir: Path) -> RunPlan:
        return cls.from_dict(json.loads((run_dir / "plan.json").read_text()))


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


def prepare_run(
    source: Path,
    run_dir: Path,
    *,
    profile: DatasetProfile,
    target: str,
    task: str | None = None,
    excluded: tuple[str, ...] = (),
    max_rows: int | None,
    seed: int,
    strategy: str = RANDOM,
    time_column: str | None = None,
    options: IngestOptions | None = None,
    metric: str | None = None,
) -> RunPlan:
    """Sample the table, settle the task and features, and split off the holdout.

    `options` are the user's overrides for reading the file (delimiter, encoding, …).
    Findings that need the target (imbalance, suspected leakage) are kept on the plan.

    The holdout is a seeded random 20% (stratified by class when classifying), or, for
    a time-based sample, its most recent 20%, so the score says how the model does on
    rows later than the ones it learned from.
    """
    if target not in {c.name for c in profile.columns}:
        raise ProblemError(f"The target column {target!r} is not in the table.")
    if strategy == TIME_BASED:
        time_column = time_column or _first_datetime_column(profile, target)
    if strategy == STRATIFIED and (
        task == REGRESSION
        or (task in (None, "", "auto") and not profiled_as_class_label(profile.column(target)))
    ):
        raise ProblemError(
            "Stratified sampling keeps the share of each class, so it needs a classification "
            "target; use random or time-based sampling for a regression target."
        )
    frame, sample = sample_table(
        source,
        target=target,
        max_rows=max_rows,
        seed=seed,
        strategy=strategy,
        time_column=time_column,
        options=options,
    )
    task, detected = resolve_task(task, frame[target])
    check_target(frame[target], task)
    metric = metric or PRIMARY_METRIC[task]
    if metric not in RANKING_METRICS[task]:
        raise ProblemError(
            f"A {task} task cannot be ranked by {metric!r}; "
            f"choose one of {', '.join(RANKING_METRICS[task])}."
        )
    findings = target_findings(profile, frame, target, task=task)
    if errors := [f for f in findings if f.severity == ERROR]:
        raise ProblemError(f"{errors[0].message} {errors[0].action}")
    if len(frame) < MIN_ROWS:
        raise ProblemError(
            f"Only {len(frame)} rows have a value for {target!r}; at least {MIN_ROWS} are needed."
        )
    # Time-ordered training folds may lack a class, which multi-class target encoding
    # cannot take; those runs one-hot encode every category column.
    features = feature_spec(
        profile,
        target=target,
        excluded=excluded,
        target_encoding=not (task == "multiclass" and strategy == TIME_BASED),
    )
    if not features.columns:
        raise ProblemError("No usable feature columns are left besides the target.")
    classes = None if task == REGRESSION else class_labels(frame[target])
    if task == "binary" and len(classes) != 2:
        raise ProblemError(f"{target!r} has {len(classes)} classes, so the task cannot be binary.")
    if strategy == TIME_BASED:
        cut = len(frame) - math.ceil(len(frame) * HOLDOUT_SHARE)
        train, holdout = frame.iloc[:cut], frame.iloc[cut:]
    else:
        stratify = None if task == REGRESSION else frame[target].astype(str)
        train, holdout = train_test_split(
            frame, test_size=HOLDOUT_SHARE, random_state=seed, stratify=stratify
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    # No model has trained yet: anything under candidates/ belongs to an older run that
    # had this folder (a database restored or reset while the files stayed).
    shutil.rmtree(run_dir / "candidates", ignore_errors=True)
    train.to_parquet(run_dir / "train.parquet", index=False)
    holdout.to_parquet(run_dir / "holdout.parquet", index=False)
    plan = RunPlan(
        target=target,
        task=task,
        detected_task=detected,
        metric=metric,
        classes=classes,
        features=features,
        seed=seed,
        sample=sample,
        train_rows=len(train),
        holdout_rows=len(holdout),
        findings=[f.to_dict() for f in findings],
    )
    (run_dir / "plan.json").write_text(json.dumps(plan.to_dict(), indent=2))
    return plan


def _first_datetime_column(profile: DatasetProfile, target: str) -> str:
    for column in profile.columns:
        if column.kind == DATETIME and column.name != target:
            return column.name
    raise ProblemError(
        "Time-based sampling needs a date or time column, and none was found; "
        "choose one, or use random sampling."
    )


def encode_target(values: pd.Series, plan: RunPlan) -> np.ndarray:
    """Targets as the models see them: floats, or class indices in `plan.classes` order."""
    if plan.task == REGRESSION:
        return pd.to_numeric(values).to_numpy(dtype="float64")
    index = {label: i for i, label in enumerate(plan.classes)}
    return np.array([index[v] for v in values], dtype="int64")


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
    data = _TrainingData.load(run_dir, plan)
    started = time.monotonic()
    result = _search(
        data, plan, name, time_limit, progress, should_stop, should_finish, interrupts=interrupts
    )
    model_dir = run_dir / "candidates" / name
    left = None if time_limit is None else time_limit - (time.monotonic() - started)
    return _refit_and_score(data, plan, name, result, save_to=model_dir, time_left=left)


@dataclass(frozen=True)
class Extension:
    """What a second round did for one candidate (see `extend_candidate`)."""

    search: SearchResult  # both rounds' trials
    previous_cv: float | None
    # The new best refitted and scored, saved in `staged_dir`; None when the CV score
    # did not improve, and the first round's model stays.
    outcome: CandidateOutcome | None


def _search(
    data: _TrainingData,
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


def extend_candidate(
    run_dir: Path,
    plan: RunPlan,
    name: str,
    *,
    time_limit: float,
    progress: Callable[[int, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_finish: Callable[[], bool] | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> Extension:
    """Continue the family's search from its search.json, within `time_limit` seconds.

    The new trials search the same rows and folds (search.py, "A second round"). When
    one beats the first round's best CV score, it is refitted on all training rows and
    scored on the holdout like `train_candidate` does, and saved into `staged_dir`: the
    first round's files stay until `adopt_extension` swaps the new ones in. Otherwise
    only search.json gains the new trials. Raises FileNotFoundError without a search.json.
    """
    model_dir = run_dir / "candidates" / name
    previous = load_search(model_dir)
    data = _TrainingData.load(run_dir, plan)
    started = time.monotonic()
    result = _search(
        data,
        plan,
        name,
        time_limit,
        progress,
        should_stop,
        should_finish,
        warm_start=previous,
        interrupts=interrupts,
    )
    before, after = previous.cv_mean, result.cv_mean
    improved = before is None or (
        after is not None and (after > before if higher_is_better(plan.metric) else after < before)
    )
    if not improved:
        _write_search(model_dir, result)
        return Extension(search=result, previous_cv=before, outcome=None)
    staged = staged_dir(run_dir, name)
    shutil.rmtree(staged, ignore_errors=True)  # a half-written one from a lost worker
    left = time_limit - (time.monotonic() - started)
    outcome = _refit_and_score(data, plan, name, result, save_to=staged, time_left=left)
    return Extension(search=result, previous_cv=before, outcome=outcome)


def staged_dir(run_dir: Path, name: str) -> Path:
    """Where a second round saves a better model before it replaces the first's."""
    return run_dir / "candidates" / f"{name}.second-round"


def adopt_extension(run_dir: Path, name: str) -> None:
    """Put the second round's model in the place of the first's (candidates/<name>).

    Safe to call again after a worker died half-way: each step checks what is there.
    """
    model_dir = run_dir / "candidates" / name
    staged = staged_dir(run_dir, name)
    replaced = run_dir / "candidates" / f"{name}.first-round"
    if staged.exists():
        if model_dir.exists():
            shutil.rmtree(replaced, ignore_errors=True)
            model_dir.rename(replaced)
        staged.rename(model_dir)
    shutil.rmtree(replaced, ignore_errors=True)


def discard_extension(run_dir: Path, name: str) -> None:
    """Remove a second round's model that will not be used."""
    shutil.rmtree(staged_dir(run_dir, name), ignore_errors=True)


def load_search(model_dir: Path) -> SearchResult:
    """The search a candidate's folder keeps (search.json); FileNotFoundError without one."""
    return SearchResult.from_dict(json.loads((model_dir / SEARCH_FILE).read_text()))


def _write_search(model_dir: Path, result: SearchResult) -> None:
    # Written aside and renamed, so a reader never sees half a file.
    partial = model_dir / f"{SEARCH_FILE}.partial"
    partial.write_text(json.dumps(result.to_dict()))
    os.replace(partial, model_dir / SEARCH_FILE)


@dataclass(frozen=True)
class _TrainingData:
    train: pd.DataFrame
    holdout: pd.DataFrame
    frame: pd.DataFrame  # the training rows' features, prepared
    y: np.ndarray

    @classmethod
    def load(cls, run_dir: Path, plan: RunPlan) -> _TrainingData:
        train = pd.read_parquet(run_dir / "train.parquet")
        return cls(
            train=train,
            holdout=pd.read_parquet(run_dir / "holdout.parquet"),
            frame=prepare_frame(train, plan.features),
            y=encode_target(train[plan.target], plan),
        )


def _refit_and_score(
    data: _TrainingData,
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
    preprocessor = build_preprocessor(plan.features, plan.task, plan.seed)
    inputs = preprocessor.fit_transform(data.frame, data.y)
    estimator = candidate.build(params, task=plan.task, seed=plan.seed)
    if "time_limit" in estimator.get_params() and time_left is not None:
        clock = time_left * FINAL_FIT_SHARE
        if result.stopped_by == "finish":
            clock = min(clock, FINISH_FIT_SECONDS)
        estimator.set_params(time_limit=max(1.0, clock))
    estimator.fit(inputs, data.y)
    fit_seconds = time.perf_counter() - fit_started
    if hasattr(estimator, "epochs_"):
        params["epochs"] = estimator.epochs_

    model = FittedModel(
        family=name,
        task=plan.task,
        target=plan.target,
        classes=plan.classes,
        features=plan.features,
        preprocessor=preprocessor,
        estimator=estimator,
    )
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
        holdout,
        y_holdout,
        plan.features.columns,
        predict=model.predict_encoded,
        score=lambda y, p, q: metric_score(plan.task, plan.metric, y, p, q),
        metric=plan.metric,
        seed=plan.seed,
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
    _write_search(save_to, result)
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
    result: SearchResult, model: FittedModel, estimator, data: _TrainingData, plan: RunPlan
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
