"""Profile a table in one Dask pass: row count, and per column its kind and statistics."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd

from .errors import DataFileError
from .ingest import read_table

PREVIEW_ROWS = 50
# Text columns with at most this many distinct values (or this share of rows) are categories.
CATEGORICAL_MAX_DISTINCT = 100
CATEGORICAL_MAX_SHARE = 0.05
IDENTIFIER_MIN_SHARE = 0.95
DATETIME_MIN_SHARE = 0.9

NUMERIC = "numeric"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
DATETIME = "datetime"
TEXT = "text"
IDENTIFIER = "identifier"
CONSTANT = "constant"
EMPTY = "empty"


@dataclass
class ColumnProfile:
    name: str
    kind: str
    dtype: str
    missing: int
    distinct: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    top_values: list[list] = field(default_factory=list)


@dataclass
class DatasetProfile:
    rows: int
    columns: list[ColumnProfile]
    preview: list[dict]

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DatasetProfile:
        columns = [ColumnProfile(**c) for c in data["columns"]]
        return cls(rows=data["rows"], columns=columns, preview=data["preview"])


def profile_table(path: str | Path) -> DatasetProfile:
    """Read the table at `path` once and describe it; raises DataFileError when unreadable."""
    ddf = read_table(path)
    if len(ddf.columns) == 0:
        raise DataFileError("The file has no columns: upload a table with a header row.")
    try:
        return _profile(ddf)
    except (ValueError, TypeError, pd.errors.ParserError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"The file could not be read as a table: {message}") from exc


def _profile(ddf: dd.DataFrame) -> DatasetProfile:
    numeric = [c for c in ddf.columns if pd.api.types.is_numeric_dtype(ddf[c].dtype)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows, missing, distinct, minimum, maximum, mean, std = dask.compute(
            ddf.map_partitions(len).sum(),
            ddf.isna().sum(),
            {col: ddf[col].nunique_approx() for col in ddf.columns},
            ddf[numeric].min(),
            ddf[numeric].max(),
            ddf[numeric].mean(),
            ddf[numeric].std(),
        )
    if rows == 0:
        raise DataFileError("The file has a header but no data rows.")
    head = ddf.head(PREVIEW_ROWS * 20, npartitions=1)
    columns = []
    for name in ddf.columns:
        present = int(rows - missing[name])
        count = min(int(round(distinct[name])), present)
        column = ColumnProfile(
            name=str(name),
            kind=_kind(head[name], rows=int(rows), present=present, distinct=count),
            dtype=str(ddf[name].dtype),
            missing=int(missing[name]),
            distinct=count,
        )
        if name in numeric and present:
            column.min, column.max = _num(minimum[name]), _num(maximum[name])
            column.mean, column.std = _num(mean[name]), _num(std[name])
        else:
            top = head[name].value_counts().head(5)
            column.top_values = [[str(value), int(n)] for value, n in top.items()]
        columns.append(column)
    preview = head.head(PREVIEW_ROWS).astype(object).where(head.head(PREVIEW_ROWS).notna(), None)
    return DatasetProfile(
        rows=int(rows), columns=columns, preview=[_jsonable(r) for r in preview.to_dict("records")]
    )


def _kind(sample: pd.Series, *, rows: int, present: int, distinct: int) -> str:
    if present == 0:
        return EMPTY
    if distinct <= 1:
        return CONSTANT
    values = sample.dropna()
    if pd.api.types.is_numeric_dtype(sample):
        if distinct == 2:
            return BOOLEAN
        is_integer = bool((values % 1 == 0).all())
        if is_integer and rows > 50 and distinct >= IDENTIFIER_MIN_SHARE * present:
            return IDENTIFIER
        return NUMERIC
    if _looks_like_dates(values):
        return DATETIME
    if distinct == 2:
        return BOOLEAN
    if distinct <= max(CATEGORICAL_MAX_DISTINCT, CATEGORICAL_MAX_SHARE * present):
        return CATEGORICAL
    if rows > 50 and distinct >= IDENTIFIER_MIN_SHARE * present:
        mean_words = values.astype(str).str.split().str.len().mean()
        return TEXT if mean_words > 3 else IDENTIFIER
    return TEXT


def _looks_like_dates(values: pd.Series) -> bool:
    if values.empty:
        return False
    text = values.astype(str)
    # Plain numbers are not dates, whatever a lenient parser thinks.
    if pd.to_numeric(text, errors="coerce").notna().mean() > 0.5:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return parsed.notna().mean() >= DATETIME_MIN_SHARE


def _num(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _jsonable(record: dict) -> dict:
    out = {}
    for key, value in record.items():
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        elif not isinstance(value, (int, float, str, bool, type(None))):
            value = str(value)
        out[str(key)] = value
    return out
