"""Quality findings that need the chosen target: a target that is empty or has one value,
class imbalance, and suspected target leakage (`quality.py` has the table's own).

Rules (documented here because the user sees their results):

- Imbalance: the rarest class is under 5% of the labelled rows.
- Leakage: a single feature predicts the target on held-out rows with accuracy (or R²)
  of at least 0.99, clearly above always guessing the most common class.
"""

from __future__ import annotations

import pandas as pd

from . import kinds
from .kinds import ERROR, WARNING, DatasetProfile, Finding
from .problem import REGRESSION
from .quality import percent

IMBALANCE_SHARE = 0.05
LEAKAGE_SCORE = 0.99


def target_findings(
    profile: DatasetProfile, frame: pd.DataFrame, target: str, *, task: str
) -> list[Finding]:
    """Findings that need the chosen target: empty or single-valued, imbalance, leakage.

    `frame` is a sample of rows (the run's sample); rows without a target are ignored.
    `task` is the run's task (`problem.resolve_task`): imbalance is looked for, and
    leakage measured as accuracy, when it is a classification.
    """
    found = []
    column = profile.column(target)
    if column.missing >= profile.rows:
        return [
            Finding(
                ERROR,
                "target_empty",
                f"The target {target!r} has no values.",
                "Choose another target column.",
                target,
            )
        ]
    if column.distinct <= 1:
        return [
            Finding(
                ERROR,
                "target_constant",
                f"The target {target!r} has a single value, so there is nothing to predict.",
                "Choose another target column.",
                target,
            )
        ]
    labelled = frame[frame[target].notna()] if target in frame.columns else frame.iloc[:0]
    y = labelled[target] if len(labelled) else pd.Series(dtype=object)
    classification = task != REGRESSION
    if classification and len(y):
        shares = y.astype(str).value_counts(normalize=True)
        if shares.iloc[-1] < IMBALANCE_SHARE:
            found.append(
                Finding(
                    WARNING,
                    "class_imbalance",
                    f"The class {shares.index[-1]!r} of {target!r} is only "
                    f"{percent(shares.iloc[-1])} of rows.",
                    "Use stratified sampling and judge models by balanced accuracy or F1, not "
                    "accuracy alone.",
                    target,
                )
            )
    found.extend(_leakage(profile, labelled, target, classification=classification))
    return found


def _leakage(
    profile: DatasetProfile, frame: pd.DataFrame, target: str, *, classification: bool
) -> list[Finding]:
    if len(frame) < 50:
        return []
    frame = frame.sample(n=min(len(frame), 20_000), random_state=0)
    cut = int(len(frame) * 0.7)
    y = frame[target]
    if classification:
        y = y.astype(str)
        baseline = float((y.iloc[cut:] == y.iloc[:cut].mode().iloc[0]).mean())
    else:
        y = pd.to_numeric(y, errors="coerce")
    found = []
    for column in profile.columns:
        name = column.name
        if name == target or name not in frame.columns:
            continue
        if column.kind in kinds.LEFT_OUT:
            continue
        x = frame[name]
        if classification:
            score = _single_feature_accuracy(x, y, cut, numeric=column.kind == kinds.NUMERIC)
            leaks = score >= LEAKAGE_SCORE and score > baseline + 0.02
            measure = f"accuracy {score:.3f}"
        else:
            if column.kind != kinds.NUMERIC:
                continue
            pair = pd.DataFrame({"x": pd.to_numeric(x, errors="coerce"), "y": y}).dropna()
            score = float(pair["x"].corr(pair["y"]) ** 2) if len(pair) > 10 else 0.0
            leaks = score >= LEAKAGE_SCORE
            measure = f"R² {score:.3f}"
        if leaks:
            found.append(
                Finding(
                    WARNING,
                    "target_leakage",
                    f"{name!r} alone predicts {target!r} almost perfectly ({measure} on held-out "
                    "rows): it may be known only after the outcome.",
                    "Exclude it unless it is truly available when predictions are made.",
                    name,
                )
            )
    return found


def _single_feature_accuracy(x: pd.Series, y: pd.Series, cut: int, *, numeric: bool) -> float:
    if numeric:
        from sklearn.tree import DecisionTreeClassifier

        numbers = pd.to_numeric(x, errors="coerce").astype("float64")
        numbers = numbers.clip(-1e30, 1e30)
        # Missing values get a place of their own, below every real value.
        fill = (numbers.min() if numbers.notna().any() else 0.0) - 1.0
        values = numbers.fillna(fill).to_numpy().reshape(-1, 1)
        tree = DecisionTreeClassifier(max_depth=4, random_state=0)
        tree.fit(values[:cut], y.iloc[:cut])
        return float((tree.predict(values[cut:]) == y.iloc[cut:].to_numpy()).mean())
    keys = x.astype(str).fillna("")
    train = pd.DataFrame({"x": keys.iloc[:cut], "y": y.iloc[:cut]})
    mapping = train.groupby("x")["y"].agg(lambda s: s.mode().iloc[0])
    fallback = y.iloc[:cut].mode().iloc[0]
    guessed = keys.iloc[cut:].map(mapping).fillna(fallback)
    return float((guessed.to_numpy() == y.iloc[cut:].to_numpy()).mean())
