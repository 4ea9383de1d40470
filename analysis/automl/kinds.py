"""Column kinds and the profile's types, shared by profiling, quality findings and preprocessing.

A column's kind decides what happens to it: numbers, booleans, dates and categories feed
the models; identifiers, free text, constant and empty columns are left out
(`preprocess.feature_spec`). The cardinality thresholds below are the only ones: the
profile uses them to tell categories from free text, preprocessing to choose between
one-hot and target encoding, and the quality findings to say which of the two a column gets.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields

import pandas as pd
import pyarrow as pa

NUMERIC = "numeric"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
DATETIME = "datetime"
TEXT = "text"
IDENTIFIER = "identifier"
CONSTANT = "constant"
EMPTY = "empty"
# The kinds that never feed the models, each with the reason the run page gives.
LEFT_OUT = {
    IDENTIFIER: "looks like an identifier (nearly every value is unique)",
    CONSTANT: "has a single value",
    EMPTY: "is empty",
    TEXT: "is free text, which PROMISE does not model yet",
}

# Text columns with at most this many distinct values (or this share of rows) are
# categories; beyond both they are free text or identifiers.
CATEGORICAL_MAX_DISTINCT = 100
CATEGORICAL_MAX_SHARE = 0.05
# Category columns with at most this many values get one column per value; beyond it they
# are target-encoded. It also caps one-hot columns where target encoding is off: the
# MAX_CATEGORIES - 1 most frequent values get a column each and the rest share one.
MAX_CATEGORIES = 20
# Whole numbers (of more than 50 rows) that nearly all differ are identifiers.
IDENTIFIER_MIN_SHARE = 0.95
IDENTIFIER_MIN_ROWS = 50
DATETIME_MIN_SHARE = 0.9

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing the user should know: how serious, which column, what, and what to do."""

    severity: str
    code: str
    message: str
    action: str
    column: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(
            severity=data.get("severity", INFO),
            code=data.get("code", ""),
            message=data.get("message", ""),
            action=data.get("action", ""),
            column=data.get("column"),
        )


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
    # Added by the streaming profile; older stored profiles lack them.
    distinct_is_estimate: bool = False
    integer: bool = False
    quantiles: dict[str, float] = field(default_factory=dict)
    histogram: list[list] = field(default_factory=list)
    earliest: str | None = None
    latest: str | None = None

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (sampling hands them over as float64)."""
        return self.dtype.startswith(("float", "int"))


@dataclass
class DatasetProfile:
    rows: int
    columns: list[ColumnProfile]
    # The first rows, each a list of values in the order of `columns`: lists, because a
    # JSON object need not keep its keys in order (PostgreSQL's jsonb sorts them).
    preview: list[list]
    findings: list[Finding] = field(default_factory=list)
    source: dict = field(default_factory=dict)
    duplicate_rows: int = 0

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DatasetProfile:
        known = {f.name for f in fields(ColumnProfile)}
        columns = [
            ColumnProfile(**{k: v for k, v in c.items() if k in known}) for c in data["columns"]
        ]
        return cls(
            rows=data["rows"],
            columns=columns,
            preview=preview_rows(data),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            source=data.get("source", {}),
            duplicate_rows=data.get("duplicate_rows", 0),
        )


def preview_rows(data: dict) -> list[list]:
    """The preview of a stored profile (`DatasetProfile.to_dict`) as rows in column order.

    Profiles stored before previews were lists hold each row as {column: value}; their
    values are put in the order of the profile's columns, whatever order the keys have.
    """
    names = [column["name"] for column in data.get("columns") or []]
    return [
        [row.get(name) for name in names] if isinstance(row, dict) else list(row)
        for row in data.get("preview") or []
    ]


def column_kind(
    type_: pa.DataType, values: pd.Series, *, rows: int, present: int, distinct: int
) -> str:
    """The kind of a column of Arrow type `type_`, from its counts over the whole table and
    `values`, a random sample of its non-missing values."""
    if present == 0:
        return EMPTY
    if distinct <= 1:
        return CONSTANT
    if pa.types.is_boolean(type_):
        return BOOLEAN
    if pa.types.is_timestamp(type_):
        return DATETIME
    looks_unique = rows > IDENTIFIER_MIN_ROWS and distinct >= IDENTIFIER_MIN_SHARE * present
    if pa.types.is_integer(type_) or pa.types.is_floating(type_):
        if distinct == 2:
            return BOOLEAN
        is_integer = bool((values % 1 == 0).all()) if len(values) else False
        return IDENTIFIER if is_integer and looks_unique else NUMERIC
    if _date_share(values) >= DATETIME_MIN_SHARE:
        return DATETIME
    if distinct == 2:
        return BOOLEAN
    if distinct <= max(CATEGORICAL_MAX_DISTINCT, CATEGORICAL_MAX_SHARE * present):
        return CATEGORICAL
    if looks_unique:
        mean_words = values.astype(str).str.split().str.len().mean()
        return TEXT if mean_words > 3 else IDENTIFIER
    return TEXT


def _date_share(values: pd.Series) -> float:
    """The share of the text `values` that read as dates or times (0 for numbers)."""
    values = values.dropna()
    if values.empty:
        return 0.0
    text = values.astype(str).head(2000)
    if pd.to_numeric(text, errors="coerce").notna().mean() > 0.5:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return float(parsed.notna().mean())
