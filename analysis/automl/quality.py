"""Quality findings: what is odd about a table, in plain words, with what to do about it.

`profile_findings(profile, sample)`: constant and near-constant columns, mostly missing
columns, duplicate rows, identifier-like columns, free text, categories with too many
values for a column each (`kinds.MAX_CATEGORIES`), mixed types, numbers written with
thousands separators, unparseable dates, outliers, zeros that look like missing values,
too few rows for the number of columns, and notes from reading the file. The findings
that need the target are in `target_quality.py`: the profile is made before the user
chooses one.

Each finding about a column says what the models do with it (`preprocess.feature_spec`).

Rules (documented here because the user sees their results):

- Outliers: Tukey's "far out" fences, below Q1 - 3*IQR or above Q3 + 3*IQR, counted on
  the profile's random sample of rows and scaled to the whole table; the usual range
  shown never starts below the smallest value of a column without negative values.
- Near-constant: one value holds at least 98% of the non-missing values.
- Mostly missing: at least half the values are missing (an error from 95%).
- Mixed types: between 50% and 99% of a text column's values read as numbers.
- Suspect zeros: at most 5% of a numeric column's values are exactly 0, the rest are
  positive, mostly not whole numbers, and none below a tenth of their median: a gap a
  real 0 would not leave, so the zeros are flagged as possible missing values.
- Shares print to one decimal; a share above 0 never prints as "0.0%" ("under 0.1%").
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from . import kinds
from .kinds import ERROR, INFO, MAX_CATEGORIES, WARNING, DatasetProfile, Finding

NEAR_CONSTANT_SHARE = 0.98
MOSTLY_MISSING_SHARE = 0.5
OUTLIER_IQR_FACTOR = 3.0
MIN_ROWS_PER_COLUMN = 10
SUSPECT_ZEROS_SHARE = 0.05
SUSPECT_ZEROS_GAP = 0.1
_THOUSANDS = re.compile(r"-?\d{1,3}([,.'\u00a0 ]\d{3})+([.,]\d+)?")
# What the models do with the gaps of a column they keep (`preprocess.build_preprocessor`).
_GAPS_FILLED = (
    "until then, the models fill each gap with the training rows' median (numbers, dates) "
    "or with one 'missing' category (text)"
)


def profile_findings(
    profile: DatasetProfile,
    sample: pd.DataFrame,
    *,
    duplicates_are_estimate: bool = False,
    notes: list[str] | tuple[str, ...] = (),
) -> list[Finding]:
    """Findings about the table alone, from its profile and a random sample of its rows."""
    found = [Finding(INFO, "read_note", note, "Check the column names below.") for note in notes]
    rows = profile.rows
    usable = 0
    for column in profile.columns:
        name = column.name
        present = rows - column.missing
        missing_share = column.missing / rows if rows else 0.0
        values = sample[name].dropna() if name in sample.columns else pd.Series(dtype=object)
        if column.kind == kinds.EMPTY:
            found.append(
                Finding(WARNING, "empty", f"{name!r} has no values.", "It is left out.", name)
            )
            continue
        if missing_share >= MOSTLY_MISSING_SHARE:
            found.append(
                Finding(
                    ERROR if missing_share >= 0.95 else WARNING,
                    "mostly_missing",
                    f"{name!r} is missing in {missing_share:.0%} of rows.",
                    "Fill it in at the source, or exclude it from the run"
                    + ("." if column.kind in kinds.LEFT_OUT else f"; {_GAPS_FILLED}."),
                    name,
                )
            )
        if column.kind == kinds.CONSTANT:
            found.append(
                Finding(
                    WARNING,
                    "constant",
                    f"{name!r} has the same value in every row.",
                    "It cannot help a model and is left out.",
                    name,
                )
            )
            continue
        top_share = column.top_values[0][1] / present if column.top_values and present else 0
        if top_share >= NEAR_CONSTANT_SHARE and column.kind != kinds.IDENTIFIER:
            found.append(
                Finding(
                    INFO,
                    "near_constant",
                    f"{name!r} is {column.top_values[0][0]!r} in {percent(top_share)} of rows.",
                    "It stays in the models but tells rows apart only rarely; consider "
                    "excluding it.",
                    name,
                )
            )
        if column.kind == kinds.IDENTIFIER:
            found.append(
                Finding(
                    INFO,
                    "identifier",
                    f"{name!r} looks like an identifier: nearly every value is different.",
                    "It is left out of the models; an ID predicts nothing about new rows.",
                    name,
                )
            )
            continue
        usable += column.kind != kinds.TEXT
        about = "about " if column.distinct_is_estimate else ""
        if column.kind == kinds.TEXT:
            found.append(
                Finding(
                    INFO,
                    "free_text",
                    f"{name!r} reads as free text: {about}{column.distinct:,} different values.",
                    "It is left out of the models: PROMISE does not model free text yet.",
                    name,
                )
            )
        elif column.kind == kinds.CATEGORICAL and column.distinct > MAX_CATEGORIES:
            found.append(
                Finding(
                    INFO,
                    "high_cardinality",
                    f"{name!r} has {about}{column.distinct:,} different values, too many for a "
                    "column each.",
                    "The models read each value as the target's average for it, learned on "
                    "other training rows (target encoding); in a time-based run with more than "
                    f"two classes, its {MAX_CATEGORIES - 1} most frequent values get a column "
                    "each and the rest share one. Group rare values if they matter.",
                    name,
                )
            )
        if column.dtype == "object":
            found.extend(_text_findings(name, column.kind, values))
        if column.kind == kinds.NUMERIC and len(values):
            numbers = values.astype("float64")
            found.extend(_outliers(name, numbers, rows))
            found.extend(_suspect_zeros(name, numbers, rows))
    if profile.duplicate_rows:
        about = "about " if duplicates_are_estimate else ""
        share = profile.duplicate_rows / rows
        if not duplicates_are_estimate or share >= 0.01:
            found.append(
                Finding(
                    WARNING if share >= 0.01 else INFO,
                    "duplicate_rows",
                    f"{about}{profile.duplicate_rows:,} rows ({percent(share)}) repeat an "
                    "earlier row exactly.",
                    "Remove duplicates if they are not real repeated events; they can make "
                    "scores look better than they are.",
                )
            )
    if rows < max(20, MIN_ROWS_PER_COLUMN * max(usable, 1)):
        found.append(
            Finding(
                WARNING,
                "too_few_rows",
                f"{rows:,} rows for {usable} usable columns is few: models will overfit.",
                f"Add rows (at least {MIN_ROWS_PER_COLUMN} per column), or exclude columns.",
            )
        )
    return found


def _text_findings(name: str, kind: str, values: pd.Series) -> list[Finding]:
    found = []
    text = values.astype(str).str.strip()
    if text.empty:
        return found
    read_as = {kinds.TEXT: "free text, which is left out", kinds.DATETIME: "dates"}.get(
        kind, "categories, not numbers"
    )
    numbers = pd.to_numeric(text, errors="coerce")
    numeric_share = float(numbers.notna().mean())
    thousands = float(text.str.fullmatch(_THOUSANDS).mean())
    if thousands >= 0.5 and numeric_share < 0.5:
        found.append(
            Finding(
                WARNING,
                "thousands_separators",
                f"{name!r} holds numbers written with thousands separators (like "
                f"{text[text.str.fullmatch(_THOUSANDS)].iloc[0]!r}), so it is read as {read_as}.",
                "Save the numbers without separators, or choose the decimal setting that "
                "matches the file.",
                name,
            )
        )
    elif 0.5 <= numeric_share < 0.99:
        odd = text[numbers.isna()].value_counts().head(3).index.tolist()
        found.append(
            Finding(
                WARNING,
                "mixed_types",
                f"{name!r} is mostly numbers, but {1 - numeric_share:.0%} of its values are "
                f"text (such as {', '.join(repr(v) for v in odd)}), so it is read as {read_as}.",
                "Fix those values or leave them blank, and upload again.",
                name,
            )
        )
    if kind == kinds.DATETIME:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = text[parsed.isna()]
        if len(bad):
            found.append(
                Finding(
                    WARNING,
                    "unparseable_dates",
                    f"{percent(len(bad) / len(text))} of {name!r} could not be read as dates "
                    f"(such as {bad.iloc[0]!r}); they are treated as missing.",
                    "Write every date in one format, such as 2024-01-31.",
                    name,
                )
            )
    return found


def _outliers(name: str, values: pd.Series, rows: int) -> list[Finding]:
    values = values[np.isfinite(values)]
    if len(values) < 20:
        return []
    q1, q3 = values.quantile([0.25, 0.75])
    spread = q3 - q1
    if spread <= 0:
        return []
    low, high = q1 - OUTLIER_IQR_FACTOR * spread, q3 + OUTLIER_IQR_FACTOR * spread
    # A range below what a non-negative column can hold (counts, prices) would read as nonsense.
    low = max(low, values.min()) if values.min() >= 0 else low
    share = float(((values < low) | (values > high)).mean())
    if not share:
        return []
    return [
        Finding(
            WARNING if share >= 0.01 else INFO,
            "outliers",
            f"About {round(share * rows):,} values of {name!r} ({percent(share)}) lie far outside "
            f"the usual range ({low:,.4g} to {high:,.4g}).",
            "Check whether they are errors: the models keep them as they are (numbers are "
            "only standardised), and linear models react to extremes more than trees do.",
            name,
        )
    ]


def _suspect_zeros(name: str, values: pd.Series, rows: int) -> list[Finding]:
    """Exact zeros in an otherwise positive, continuous column: a gap in the distribution
    (a length, weight or price cannot be 0), so most likely missing values written as 0."""
    values = values[np.isfinite(values)]
    zeros = values == 0
    positive = values[~zeros]
    share = float(zeros.mean()) if len(values) else 0.0
    if not share or share > SUSPECT_ZEROS_SHARE or len(positive) < 20 or positive.min() < 0:
        return []
    continuous = (positive != positive.round()).mean() >= 0.5
    if not continuous or positive.min() < SUSPECT_ZEROS_GAP * positive.median():
        return []
    about = "" if len(values) == rows else "About "
    count = round(share * rows)
    return [
        Finding(
            WARNING,
            "suspect_zeros",
            f"{about}{count:,} values of {name!r} ({percent(share)}) are exactly 0, while the "
            f"others are all at least {positive.min():,.4g}: they may be missing values "
            "written as 0.",
            "If 0 cannot be a real value here, leave those cells empty in the file: the models "
            "then treat them as missing rather than as a real 0.",
            name,
        )
    ]


def percent(share: float) -> str:
    """A share as a percentage to one decimal, never "0.0%" for a share above 0."""
    return "under 0.1%" if 0 < share < 0.0005 else f"{share:.1%}"
