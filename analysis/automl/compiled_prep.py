"""The fitted preprocessing as plain numpy: the serving fast path's first half.

scikit-learn's ColumnTransformer spends milliseconds per call on pandas and validation
however few rows it gets; prediction requests are mostly one row. The transformers
`preprocess.build_preprocessor` fits are simple once fitted, so this module reads them
into arrays and lookup tables and applies them with a few numpy operations:

- numbers and datetime parts: fill the median, subtract the mean, divide by the scale
  (the same float64 operations in the same order as SimpleImputer and StandardScaler);
- each category column: a table from the category's text to its encoded values (one-hot
  columns, or target-encoded and scaled values), built by running the fitted transformers
  themselves on every category they know, plus one category they do not know, which gives
  the encoding of every unknown value. Every one of these encoders treats each column on
  its own, which is what makes a per-column table exact.

skl2onnx cannot convert this preprocessing (its string imputer does not take NaN as the
missing value), so the ONNX graph holds only the estimator; see compiled.py.
`FastPreprocessor.build` checks itself against the scikit-learn transform and refuses
(ValueError) a preprocessor whose output it does not reproduce.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from .preprocess import DATETIME_PARTS, MISSING_CATEGORY, FeatureSpec, prepare_frame

UNKNOWN = "\x00unknown category\x00"  # no table holds it: it encodes as any unseen value
AGREEMENT = 1e-12
ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?\Z"
)


@dataclass
class _Table:
    """One category column's encodings: row `index[text]`, or the last row if unknown."""

    index: dict[str, int]
    values: np.ndarray  # (len(index) + 1, width)

    def encode(self, texts: list) -> np.ndarray:
        unknown = len(self.values) - 1
        rows = [self.index.get(MISSING_CATEGORY if t is None else t, unknown) for t in texts]
        return self.values[rows]


class FastPreprocessor:
    """`transform` gives what `preprocessor.transform(prepare_frame(frame, spec))` gives."""

    def __init__(self, spec: FeatureSpec, numeric: list[str], fill, mean, scale, tables):
        self.spec = spec
        self.numeric = numeric  # prepared column names of the numeric block, in order
        self.fill, self.mean, self.scale = fill, mean, scale
        self.tables: list[tuple[str, _Table]] = tables  # in the output's column order

    @classmethod
    def build(cls, spec: FeatureSpec, preprocessor) -> FastPreprocessor:
        numeric, fill, mean, scale, tables = [], None, None, None, []
        for name, transformer, columns in preprocessor.transformers_:
            if name == "remainder" and transformer == "drop":
                continue
            if name == "numeric":
                imputer, scaler = transformer.named_steps["impute"], transformer[-1]
                numeric = list(columns)
                fill = np.asarray(imputer.statistics_, dtype="float64")
                mean = np.asarray(scaler.mean_, dtype="float64")
                scale = np.asarray(scaler.scale_, dtype="float64")
            elif name in ("categorical", "target_encoded"):
                tables += _tables(transformer, list(columns))
            else:
                raise ValueError(f"the preprocessing step {name!r} has no fast path")
        if numeric != [*spec.numeric, *spec.datetime_features]:
            raise ValueError("the numeric columns are not the feature spec's")
        fast = cls(spec, numeric, fill, mean, scale, tables)
        fast._check(preprocessor)
        return fast

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Model inputs for a raw `frame` (column → values), as the pipeline makes them."""
        prepared = prepare_frame(frame, self.spec)
        numbers = prepared[self.numeric].to_numpy("float64") if self.numeric else None
        texts = {
            name: [v if isinstance(v, str) else None for v in prepared[name].tolist()]
            for name, _ in self.tables
        }
        return self._encode(numbers, texts, len(prepared))

    def transform_rows(self, rows: list[dict]) -> np.ndarray:
        """`transform` of the records `rows`, without pandas when their values allow.

        Numbers given as JSON numbers and categories given as text take the fast path;
        anything pandas would convert on its own terms (text in a number column, numbers
        in a category column, datetimes) goes through `transform` to stay identical.
        """
        numbers = np.empty((len(rows), len(self.numeric)), dtype="float64")
        if self.spec.datetime:
            numbers[:, len(self.spec.numeric) :] = self._date_parts(rows)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.spec.numeric):
                value = row.get(name)
                if value is None:
                    numbers[i, j] = math.nan
                elif type(value) in (float, int):
                    numbers[i, j] = value
                else:
                    return self.transform(pd.DataFrame.from_records(rows))
        texts = {}
        for name, _ in self.tables:
            column = [row.get(name) for row in rows]
            for i, value in enumerate(column):
                if type(value) is str or value is None:
                    continue
                if type(value) is float and value != value:  # NaN: missing, as for pandas
                    column[i] = None
                else:
                    return self.transform(pd.DataFrame.from_records(rows))
            texts[name] = column
        return self._encode(numbers if self.numeric else None, texts, len(rows))

    def _date_parts(self, rows: list[dict]) -> np.ndarray:
        """The datetime columns' parts: plain ISO dates read by Python, anything else by
        pandas as prepare_frame reads it (its mixed-format parsing costs milliseconds)."""
        parts = np.empty((len(rows), len(self.spec.datetime_features)), dtype="float64")
        for i, row in enumerate(rows):
            for j, name in enumerate(self.spec.datetime):
                found = _iso_parts(row.get(name))
                if found is None:
                    dates = {n: [r.get(n) for r in rows] for n in self.spec.datetime}
                    only = FeatureSpec(numeric=[], categorical=[], datetime=self.spec.datetime)
                    frame = prepare_frame(pd.DataFrame(dates), only)
                    return frame[self.spec.datetime_features].to_numpy("float64")
                width = len(DATETIME_PARTS)
                parts[i, j * width : (j + 1) * width] = found
        return parts

    def _encode(self, numbers, texts: dict[str, list], n_rows: int) -> np.ndarray:
        blocks = []
        if numbers is not None:
            numbers = np.where(np.isnan(numbers), self.fill, numbers)
            numbers -= self.mean
            numbers /= self.scale
            blocks.append(numbers)
        blocks += [table.encode(texts[name]) for name, table in self.tables]
        if not blocks:
            return np.empty((n_rows, 0))
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    def _check(self, preprocessor) -> None:
        """Refuse to stand in for `preprocessor` unless both agree on a probe table."""
        probe = _probe(self)
        expected = np.asarray(preprocessor.transform(prepare_frame(probe, self.spec)))
        got = self.transform(probe)
        if got.shape != expected.shape or not np.allclose(
            got, expected, rtol=AGREEMENT, atol=AGREEMENT
        ):
            raise ValueError("the numpy preprocessing does not reproduce scikit-learn's")


def _iso_parts(value) -> tuple | None:
    """DATETIME_PARTS of an ISO 8601 text as pandas reads it (in UTC; a time without an
    offset is taken as UTC), a missing value's NaNs, or None when pandas must read it."""
    if value is None:
        return (math.nan,) * len(DATETIME_PARTS)
    if type(value) is not str or not ISO_DATE.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    if not 1700 <= moment.year <= 2200:  # near the edges of pandas' timestamps
        return None
    return (moment.year, moment.month, moment.day, moment.weekday(), moment.hour)


def _tables(pipeline, columns: list[str]) -> list[tuple[str, _Table]]:
    """Per-column tables of a category pipeline (impute, encode, maybe scale)."""
    encoder = pipeline.named_steps["encode"]
    known = [[str(c) for c in categories] for categories in _categories(encoder)]
    length = max(len(k) for k in known) + 1
    # Row r holds each column's r-th category (then the unknown one, repeated): the
    # encoders treat columns independently, so one transform encodes them all.
    probe = pd.DataFrame(
        {name: (k + [UNKNOWN] * (length - len(k))) for name, k in zip(columns, known, strict=True)},
        dtype=object,
    )
    encoded = np.asarray(pipeline.transform(probe), dtype="float64")
    widths = _widths(encoder, len(columns))
    if sum(widths) != encoded.shape[1]:
        raise ValueError("the category encoder's output columns are not as expected")
    tables, start = [], 0
    for name, k, width in zip(columns, known, widths, strict=True):
        block = encoded[:, start : start + width]
        values = np.vstack([block[: len(k)], block[length - 1 : length]])
        tables.append((name, _Table({text: i for i, text in enumerate(k)}, values)))
        start += width
    return tables


def _categories(encoder) -> list:
    if hasattr(encoder, "categories_"):
        return encoder.categories_
    raise ValueError(f"{type(encoder).__name__} has no categories to tabulate")


def _widths(encoder, n_columns: int) -> list[int]:
    """How many output columns each input column of `encoder` gives."""
    if type(encoder).__name__ == "OneHotEncoder":
        if encoder.drop_idx_ is not None:
            raise ValueError("one-hot encoding that drops a category has no fast path")
        infrequent = getattr(encoder, "infrequent_categories_", [None] * n_columns)
        return [
            len(categories) - (0 if rare is None else len(rare) - 1)
            for categories, rare in zip(encoder.categories_, infrequent, strict=True)
        ]
    if type(encoder).__name__ == "TargetEncoder":
        per_column = len(encoder.classes_) if encoder.target_type_ == "multiclass" else 1
        return [per_column] * n_columns
    raise ValueError(f"{type(encoder).__name__} has no fast path")


def _probe(fast: FastPreprocessor) -> pd.DataFrame:
    """A raw table touching every table row and every number's fill, mean and scale."""
    length = max([len(t.values) + 1 for _, t in fast.tables] + [4])
    columns = {}
    for j, name in enumerate(fast.spec.numeric):
        j_mean, j_scale = fast.mean[j], fast.scale[j]
        values = [math.nan, j_mean, j_mean + j_scale, j_mean - 2.5 * j_scale]
        columns[name] = (values * length)[:length]
    for name, table in fast.tables:
        texts = [*table.index, None, "never seen before"]
        columns[name] = (texts * length)[:length]
    for name in fast.spec.datetime:
        columns[name] = (["2024-02-29 13:45:00", None, "not a date", "1999-12-31"] * length)[
            :length
        ]
    return pd.DataFrame(columns)
