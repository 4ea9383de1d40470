"""A discovery run as two steps over a run folder: prepare the data, then train a candidate.

    prepare_run(...)      sample → task → checks → features →
                          train.parquet + holdout.parquet + plan.json
    train_candidate(...)  fit one family on train.parquet, score it on holdout.parquet,
                          save its model files under candidates/<name>/

The holdout is split off once, before any candidate sees the data, so every candidate
is scored on the same rows and none of them trained on them.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .candidates import get_candidate
from .errors import ProblemError
from .fitted import FittedModel
from .metrics import PRIMARY_METRIC, score_predictions
from .preprocess import FeatureSpec, build_preprocessor, feature_spec, prepare_frame
from .problem import (
    MAX_CLASSES_FOR_NUMERIC,
    REGRESSION,
    check_target,
    class_labels,
    resolve_task,
)
from .profile import DATETIME, NUMERIC, DatasetProfile
from .sampling import RANDOM, STRATIFIED, TIME_BASED, SampleResult, sample_table

HOLDOUT_SHARE = 0.2
MIN_ROWS = 20


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
    """One trained candidate: its hyper-parameters, holdout metrics, costs and model files."""

    name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float
    predict_ms_per_1000: float
    model_bytes: int
    model_dir: str


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
) -> RunPlan:
    """Sample the table, settle the task and features, and split off the holdout.

    The holdout is a seeded random 20% (stratified by class when classifying), or, for
    a time-based sample, its most recent 20%, so the score says how the model does on
    rows later than the ones it learned from.
    """
    if target not in {c.name for c in profile.columns}:
        raise ProblemError(f"The target column {target!r} is not in the table.")
    if strategy == TIME_BASED:
        time_column = time_column or _first_datetime_column(profile, target)
    if strategy == STRATIFIED and (
        task == REGRESSION or (task in (None, "", "auto") and _looks_continuous(profile, target))
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
    )
    task, detected = resolve_task(task, frame[target])
    check_target(frame[target], task)
    if len(frame) < MIN_ROWS:
        raise ProblemError(
            f"Only {len(frame)} rows have a value for {target!r}; at least {MIN_ROWS} are needed."
        )
    features = feature_spec(profile, target=target, excluded=excluded)
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
    train.to_parquet(run_dir / "train.parquet", index=False)
    holdout.to_parquet(run_dir / "holdout.parquet", index=False)
    plan = RunPlan(
        target=target,
        task=task,
        detected_task=detected,
        metric=PRIMARY_METRIC[task],
        classes=classes,
        features=features,
        seed=seed,
        sample=sample,
        train_rows=len(train),
        holdout_rows=len(holdout),
    )
    (run_dir / "plan.json").write_text(json.dumps(plan.to_dict(), indent=2))
    return plan


def _looks_continuous(profile: DatasetProfile, target: str) -> bool:
    column = profile.column(target)
    return column.kind == NUMERIC and column.distinct > MAX_CLASSES_FOR_NUMERIC


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
    run_dir: Path, plan: RunPlan, name: str, *, time_limit: float | None = None
) -> CandidateOutcome:
    """Fit the family `name` with its default hyper-parameters and score it on the holdout."""
    candidate = get_candidate(name)
    params = candidate.default_params(plan.task)
    train = pd.read_parquet(run_dir / "train.parquet")
    holdout = pd.read_parquet(run_dir / "holdout.parquet")

    started = time.perf_counter()
    preprocessor = build_preprocessor(plan.features)
    inputs = preprocessor.fit_transform(prepare_frame(train, plan.features))
    estimator = candidate.build(params, task=plan.task, seed=plan.seed)
    if "time_limit" in estimator.get_params():
        estimator.set_params(time_limit=time_limit)
    estimator.fit(inputs, encode_target(train[plan.target], plan))
    fit_seconds = time.perf_counter() - started
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
    started = time.perf_counter()
    predicted, proba = model.predict_encoded(holdout)
    predict_ms = (time.perf_counter() - started) * 1000 * 1000 / max(len(holdout), 1)
    metrics = score_predictions(
        plan.task, encode_target(holdout[plan.target], plan), predicted, proba
    )
    model_dir = run_dir / "candidates" / name
    files = model.save(model_dir)
    return CandidateOutcome(
        name=name,
        params=params,
        metrics=metrics,
        fit_seconds=round(fit_seconds, 3),
        predict_ms_per_1000=round(predict_ms, 3),
        model_bytes=sum(f.stat().st_size for f in files),
        model_dir=str(model_dir),
    )
