"""How strongly each column goes with the target, from a seeded sample of the table's rows.

The measure depends on the two columns' kinds, each between 0 (none) and 1:
    number  ~ number target     Spearman's rank correlation ρ (signed; Pearson's r too)
    category ~ number target    the correlation ratio η: the share of the target's spread
                                explained by the category's means (its square root)
    number  ~ category target   η again, of the number by the target's classes
    category ~ category target  Cramér's V (from the chi-squared statistic of their table)
Booleans count as categories. Dates, text, identifiers and constant columns are left out.
Categories beyond the MAX_LEVELS most frequent are pooled into one, missing values dropped
pairwise. Django-free: the dataset page calls it on the table's normalised Parquet copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

SAMPLE_ROWS = 5000
MAX_LEVELS = 50
MIN_ROWS = 10
NUMBER, CATEGORY = "numeric", "categorical"


def read_sample(parquet: Path, columns: list[str], *, rows: int = SAMPLE_ROWS, seed: int = 0):
    """At most `rows` rows of `columns`, drawn uniformly (seeded) from row groups read in
    a random order until there are enough: memory stays bounded by the sample."""
    source = pq.ParquetFile(parquet)
    rng = np.random.default_rng(seed)
    parts, have = [], 0
    for group in rng.permutation(source.metadata.num_row_groups):
        part = source.read_row_group(int(group), columns=columns).to_pandas()
        parts.append(part)
        have += len(part)
        if have >= 2 * rows:
            break
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if len(frame) > rows:
        frame = frame.sample(rows, random_state=seed)
    return frame.reset_index(drop=True)


def measure_kind(kind: str) -> str | None:
    if kind == NUMBER:
        return NUMBER
    if kind in (CATEGORY, "boolean"):
        return CATEGORY
    return None


def target_associations(frame: pd.DataFrame, target: str, kinds: dict[str, str]) -> list[dict]:
    """[{feature, measure, value, strength, pearson?}] for each usable column, the
    strongest first (`strength` is the absolute value)."""
    target_kind = measure_kind(kinds.get(target, ""))
    if target_kind is None or target not in frame:
        return []
    found = []
    for name, kind in kinds.items():
        feature_kind = measure_kind(kind)
        if name == target or feature_kind is None or name not in frame:
            continue
        pair = frame[[name, target]].dropna()
        if len(pair) < MIN_ROWS or pair[name].nunique() < 2 or pair[target].nunique() < 2:
            continue
        x, y = _as(pair[name], feature_kind), _as(pair[target], target_kind)
        entry = {"feature": name}
        if feature_kind == NUMBER and target_kind == NUMBER:
            entry.update(measure="Spearman ρ", value=_corr(x, y, "spearman"))
            entry["pearson"] = _corr(x, y, "pearson")
        elif feature_kind == CATEGORY and target_kind == CATEGORY:
            entry.update(measure="Cramér's V", value=cramers_v(x, y))
        elif feature_kind == CATEGORY:
            entry.update(measure="correlation ratio η", value=correlation_ratio(x, y))
        else:
            entry.update(measure="correlation ratio η", value=correlation_ratio(y, x))
        if entry["value"] is None or not np.isfinite(entry["value"]):
            continue
        entry["strength"] = abs(entry["value"])
        found.append(entry)
    return sorted(found, key=lambda e: -e["strength"])


def _as(values: pd.Series, kind: str) -> pd.Series:
    if kind == NUMBER:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    text = values.astype(str)
    keep = text.value_counts().index[:MAX_LEVELS]
    return text.where(text.isin(keep), "(other)")


def _corr(x: pd.Series, y: pd.Series, method: str) -> float | None:
    value = x.corr(y, method=method)
    return None if pd.isna(value) else round(float(value), 4)


def correlation_ratio(categories: pd.Series, numbers: pd.Series) -> float | None:
    """η: √(spread between the categories' means / total spread) of `numbers`."""
    numbers = numbers.to_numpy(dtype="float64")
    total = float(((numbers - numbers.mean()) ** 2).sum())
    if total == 0:
        return None
    groups = pd.Series(numbers).groupby(categories.to_numpy())
    between = float((groups.count() * (groups.mean() - numbers.mean()) ** 2).sum())
    return round(float(np.sqrt(between / total)), 4)


def cramers_v(x: pd.Series, y: pd.Series) -> float | None:
    """Cramér's V = √(χ² / (n · (min(rows, columns) − 1))) of the two columns' table."""
    table = pd.crosstab(x.to_numpy(), y.to_numpy()).to_numpy(dtype="float64")
    n = table.sum()
    smaller = min(table.shape) - 1
    if n == 0 or smaller < 1:
        return None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return round(float(np.sqrt(chi2 / (n * smaller))), 4)
