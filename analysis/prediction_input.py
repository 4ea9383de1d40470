"""Rows sent for prediction, checked against the model's feature schema.

What a model takes (its FeatureSchema): number columns, category columns with the values
it was trained on, and date-and-time columns. `check_rows` reads the rows a client sent
(JSON records, or a chunk of a CSV file read as records) and either refuses them with a
message per field, or hands back the rows the model needs and what was left aside:

- a column of the model missing from a row: refused, by column ("send null when the
  value is unknown": an explicit null is a missing value, which the model imputes);
- a value of the wrong type: refused, by column (a number column takes numbers, true or
  false, or text that reads as a number; a date column takes text that reads as a date;
  no column takes objects or lists; numbers must fit a 32-bit float);
- a category the model never saw: predicted as the encoders treat it (one-hot columns as
  the infrequent values, or none; target-encoded columns as the overall mean) and listed
  in the answer under "unseen_categories";
- a column the model does not use: ignored and listed under "ignored_columns".

The prediction API of candidates, the deployments' and the file scoring all call it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from .forms import FLOAT32_MAX, prediction_value_error

MESSAGES_PER_COLUMN = 5  # then "and N more rows"
UNSEEN_LISTED = 20  # unseen values named per column in an answer


@dataclass(frozen=True)
class FeatureSchema:
    """The columns a model takes, by kind; `categories` the values of each category column
    it was trained on (absent for a column whose encoder keeps none)."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]
    categories: dict[str, frozenset[str]] = field(default_factory=dict)
    target: str = ""

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]

    def describe(self) -> dict:
        """The schema as a client reads it: each column with its kind."""
        kinds = (("number", self.numeric), ("category", self.categorical))
        return {
            **{name: kind for kind, names in kinds for name in names},
            **dict.fromkeys(self.datetime, "datetime"),
        }


@dataclass
class CheckedRows:
    """Rows that passed: only the model's columns, and what was left aside."""

    rows: list[dict]
    ignored_columns: list[str]
    unseen_categories: dict[str, list[str]]

    def notes(self) -> dict:
        """The keys an answer adds to say what was left aside (none when nothing was)."""
        notes = {}
        if self.ignored_columns:
            notes["ignored_columns"] = self.ignored_columns
        if self.unseen_categories:
            notes["unseen_categories"] = self.unseen_categories
        return notes


class InputRefused(Exception):
    """The rows cannot be predicted: a sentence, and messages by column."""

    def __init__(self, sentence: str, fields: dict[str, list[str]] | None = None):
        super().__init__(sentence)
        self.sentence = sentence
        self.fields = fields or {}


def schema_of(fitted) -> FeatureSchema:
    """The FeatureSchema of a FittedModel, with the categories its encoders learnt."""
    spec = fitted.features
    categories: dict[str, frozenset[str]] = {}
    groups = getattr(fitted.preprocessor, "named_transformers_", {})
    for group, names in (("categorical", spec.one_hot), ("target_encoded", spec.high_cardinality)):
        encoder = getattr(groups.get(group), "named_steps", {}).get("encode")
        for name, values in zip(names, getattr(encoder, "categories_", ()), strict=False):
            categories[name] = frozenset(str(v) for v in values)
    return FeatureSchema(
        numeric=tuple(spec.numeric),
        categorical=tuple(spec.categorical),
        datetime=tuple(spec.datetime),
        categories=categories,
        target=fitted.target,
    )


def check_rows(schema: FeatureSchema, rows: list, *, first_row: int = 1) -> CheckedRows:
    """The model's columns of `rows` (a list of {column: value}), or InputRefused.

    Messages name rows counting from `first_row` (a file's chunk starts further on)."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InputRefused('Send "rows": a list of objects mapping column names to values.')
    columns = schema.columns
    found: dict[str, list[tuple[int, str]]] = {name: [] for name in columns}
    sent: set[str] = set()
    kept = []
    # One pass, with the common types decided inline: a batch of thousands of records is
    # checked in a few milliseconds (the serving benchmark's batch path).
    for number, row in enumerate(rows, start=first_row):
        sent.update(row)
        clean = {}
        for name in schema.numeric:
            value = row.get(name, _ABSENT)
            kind = type(value)
            if kind is float:
                if value != value:  # NaN: a CSV's empty cell
                    value = None
                elif not -FLOAT32_MAX <= value <= FLOAT32_MAX:
                    found[name].append((number, _number_error(name, value)))
            elif value is None or kind is bool:
                pass
            elif value is _ABSENT:
                found[name].append((number, _MISSING))
            elif message := _number_error(name, value):
                found[name].append((number, message))
            clean[name] = value
        for name in schema.categorical:
            value = row.get(name, _ABSENT)
            kind = type(value)
            if kind is str or value is None or kind is int or kind is bool:
                pass
            elif kind is float:
                value = None if value != value else value
            elif value is _ABSENT:
                found[name].append((number, _MISSING))
            elif not isinstance(value, str | int | float):  # numpy's scalars are these
                found[name].append((number, _NOT_A_VALUE))
            clean[name] = value
        for name in schema.datetime:
            value = row.get(name, _ABSENT)
            if value is _ABSENT:
                found[name].append((number, _MISSING))
            clean[name] = _plain(value)
        kept.append(clean)
    for name in schema.datetime:
        found[name].extend(_datetime_errors(name, rows, first_row))
        found[name].sort()
    problems = {name: messages for name, messages in found.items() if messages}
    if problems:
        numbered = len(rows) > 1 or first_row > 1
        fields = {name: _by_row(found, numbered) for name, found in problems.items()}
        first = next(iter(fields))
        raise InputRefused(f"{first}: {fields[first][0]}", fields)
    ignored = sorted(str(c) for c in sent - set(columns))
    return CheckedRows(kept, ignored, _unseen(schema, kept))


_MISSING = "this column of the model is missing; send null when the value is unknown."
_NOT_A_VALUE = "this column takes a value (text or a number), not objects or lists."
_ABSENT = object()


def _by_row(found: list[tuple[int, str]], numbered: bool) -> list[str]:
    """One message per row, the first few; a single record's need no row number."""
    shown = [f"row {n}: {m}" if numbered else m for n, m in found[:MESSAGES_PER_COLUMN]]
    if len(found) > MESSAGES_PER_COLUMN:
        shown.append(f"… and {len(found) - MESSAGES_PER_COLUMN} more rows.")
    return shown


def _plain(value):
    """A CSV's empty cell (NaN) as a missing value, like JSON's null."""
    if type(value) is float and value != value:  # NaN
        return None
    return value


def _number_error(name: str, value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"{_short(value)} is not a number; this column takes numbers."
    elif not isinstance(value, int | float):
        return "this column takes numbers, not objects or lists."
    return _without_column(name, prediction_value_error(name, value))


def _datetime_errors(name: str, rows: list[dict], first_row: int) -> list[tuple[int, str]]:
    """Every row whose value in the date column `name` does not read as a date.

    ISO 8601 text is read by the standard library (microseconds a value); only the rest
    goes to pandas' "mixed" reading, the one the model's preparation uses."""
    errors, texts = [], {}
    for number, row in enumerate(rows, start=first_row):
        value = _plain(row.get(name))
        if value is None:
            continue
        if type(value) is not str:
            errors.append((number, "this column takes a date as text, such as 2024-05-31."))
            continue
        try:
            datetime.fromisoformat(value)
        except ValueError:
            texts[number] = value
    if texts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read = pd.to_datetime(
                pd.Series(list(texts.values()), dtype=object),
                errors="coerce",
                utc=True,
                format="mixed",
            )
        for number, moment in zip(texts, read, strict=True):
            if pd.isna(moment):
                message = f"{_short(texts[number])} is not a date; send one such as 2024-05-31."
                errors.append((number, message))
    return sorted(errors)


def _unseen(schema: FeatureSchema, rows: list[dict]) -> dict[str, list[str]]:
    unseen = {}
    for name in schema.categorical:
        known = schema.categories.get(name)
        if known is None:
            continue
        values = {str(row[name]) for row in rows if row[name] is not None}
        if new := sorted(values - known):
            unseen[name] = new[:UNSEEN_LISTED]
    return unseen


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _without_column(name: str, message: str | None) -> str | None:
    """prediction_value_error's sentence without the column it names (the field does)."""
    if message is None:
        return None
    return message.replace(f"The value of {name!r} ", "this value ", 1)
