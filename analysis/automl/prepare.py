"""The first step of a discovery run: prepare its folder and the plan every candidate shares.

    prepare_run(...)   sample → task → checks → features →
                       train.parquet + holdout.parquet + plan.json

The holdout is split off once, before any candidate sees the data, so every candidate
is scored on the same rows and none of them trained on them (discovery.py trains them).
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .errors import ProblemError
from .ingest import IngestOptions
from .kinds import DATETIME, ERROR, DatasetProfile
from .metrics import PRIMARY_METRIC, RANKING_METRICS
from .preprocess import FeatureSpec, feature_spec
from .problem import REGRESSION, check_target, class_labels, profiled_as_class_label, resolve_task
from .sampling import RANDOM, STRATIFIED, TIME_BASED, SampleResult, sample_table
from .target_quality import target_findings

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
