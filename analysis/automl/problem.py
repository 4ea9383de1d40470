"""Problem set-up: which task a target asks for, and whether it can be learned at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .errors import ProblemError

if TYPE_CHECKING:
    from .kinds import ColumnProfile

REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
TASKS = (REGRESSION, BINARY, MULTICLASS)

# A numeric target with at most this many distinct whole-number values is read as classes.
MAX_CLASSES_FOR_NUMERIC = 20


def is_class_label(*, numeric: bool, whole: bool, distinct: int) -> bool:
    """The one rule for "is this target a class label or a number".

    Text and boolean targets are class labels; numeric ones are when every value is a
    whole number and there are at most MAX_CLASSES_FOR_NUMERIC distinct values.
    """
    return not numeric or (whole and distinct <= MAX_CLASSES_FOR_NUMERIC)


def detect_task(target: pd.Series) -> str:
    """Say which task the target asks for: regression unless its values are class labels
    (`is_class_label`); two classes make a binary task, more a multi-class one."""
    values = target.dropna()
    distinct = values.nunique()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    whole = numeric and bool((values % 1 == 0).all())
    if not is_class_label(numeric=numeric, whole=whole, distinct=distinct):
        return REGRESSION
    return BINARY if distinct <= 2 else MULTICLASS


def profiled_as_class_label(column: ColumnProfile) -> bool:
    """`is_class_label` read from a column's profile, for choices made before sampling."""
    return is_class_label(numeric=column.numeric, whole=column.integer, distinct=column.distinct)


def resolve_task(requested: str | None, target: pd.Series) -> tuple[str, str]:
    """The task to use and the detected one. `requested` may be None or "auto" (detect),
    "classification" (binary or multi-class by the number of classes), or a task name."""
    detected = detect_task(target)
    if requested in (None, "", "auto"):
        return detected, detected
    if requested == "classification":
        return (BINARY if target.dropna().nunique() <= 2 else MULTICLASS), detected
    if requested not in TASKS:
        choices = ", ".join(("auto", "classification", *TASKS))
        raise ProblemError(f"The task {requested!r} is unknown; choose one of {choices}.")
    return requested, detected


def check_target(target: pd.Series, task: str) -> None:
    """Raise ProblemError when the target cannot be learned for `task`."""
    name = target.name
    values = target.dropna()
    if values.empty:
        raise ProblemError(f"The target column {name!r} is empty: every value is missing.")
    if values.nunique() < 2:
        raise ProblemError(
            f"The target column {name!r} has a single value ({values.iloc[0]!r}); "
            "there is nothing to predict."
        )
    if task == REGRESSION and not pd.api.types.is_numeric_dtype(values):
        raise ProblemError(
            f"The target column {name!r} is not numeric, so it cannot be a regression target; "
            "choose classification."
        )
    if task != REGRESSION:
        counts = values.value_counts()
        lonely = counts[counts < 2]
        if len(lonely):
            raise ProblemError(
                f"The class {lonely.index[0]!r} of {name!r} has a single row; every class needs "
                "at least two rows to be learned and scored."
            )


def class_labels(target: pd.Series) -> list:
    """The sorted classes of a classification target, as plain Python values."""
    values = target.dropna().unique().tolist()
    return sorted((_plain(v) for v in values), key=lambda v: (str(type(v)), v))


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
