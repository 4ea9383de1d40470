"""Reading a CSV of records in chunks, checking it against the model, writing the scored copy.

Two passes: the first checks every record (and counts them), so that a file with a bad
value is refused with its row and column before anything is written; the second predicts
chunk by chunk through serving's batch path and writes the result. Cells are read as text
(an id like 007 stays 007 in the copy), which the checks and the model read as numbers
where the model wants numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import serving
from .automl.errors import UserFacingError
from .automl.ingest.detect import describe_source
from .automl.ingest.source import CSV, SourceInfo
from .batch_predictions import BatchRefused
from .prediction_input import UNSEEN_LISTED, FeatureSchema, InputRefused, check_rows

CHUNK_ROWS = 5_000
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection"); the same
# rule as the exported predict.py's.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Summary:
    rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)


def read_header(path: Path, schema: FeatureSchema) -> SourceInfo:
    """How the file reads; BatchRefused unless it is a CSV holding every model column."""
    try:
        info = describe_source(path)
    except UserFacingError as exc:
        raise BatchRefused(str(exc), {"file": [str(exc)]}) from exc
    if info.format != CSV or info.compression:
        sentence = "Send a CSV file (plain text, not compressed) with a header row."
        raise BatchRefused(sentence, {"file": [sentence]})
    missing = [name for name in schema.columns if name not in info.columns]
    if missing:
        fields = {
            name: ["this column of the model is missing from the file's header."]
            for name in missing
        }
        raise BatchRefused(
            f"The file has no column {missing[0]!r}; the model needs "
            + ", ".join(schema.columns)
            + ".",
            fields,
        )
    return info


def score_file(
    candidate, path: Path, out: Path, *, progress: Callable[[int, int], object]
) -> Summary:
    """Check every record of `path`, then write its scored copy to `out`."""
    schema = serving.feature_schema(candidate)
    info = read_header(path, schema)
    summary = Summary()
    unseen: dict[str, set[str]] = {}
    for first, chunk in _chunks(path, info, schema):
        checked = _checked(schema, chunk, first)
        summary.rows += len(chunk)
        summary.ignored_columns = checked.ignored_columns
        for name, values in checked.unseen_categories.items():
            unseen.setdefault(name, set()).update(values)
    summary.unseen_categories = {k: sorted(v)[:UNSEEN_LISTED] for k, v in unseen.items()}
    progress(0, summary.rows)
    done = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = None
        for first, chunk in _chunks(path, info, schema):
            answer = serving.predict_rows(candidate, _checked(schema, chunk, first).rows)
            if header is None:
                header = _header(list(info.columns), answer)
                writer.writerow([spreadsheet_text(name) for name in header])
            for cells in _output_rows(chunk, answer):
                writer.writerow([spreadsheet_text(cell) for cell in cells])
            done += len(chunk)
            progress(done, summary.rows)
        if header is None:  # a header and no records: an empty result with its header
            writer.writerow([spreadsheet_text(name) for name in [*info.columns, "prediction"]])
    return summary


def _chunks(
    path: Path, info: SourceInfo, schema: FeatureSchema
) -> Iterator[tuple[int, pd.DataFrame]]:
    try:
        reader = pd.read_csv(
            path,
            sep=info.delimiter or ",",
            encoding=info.encoding or "utf-8",
            encoding_errors="replace",
            skiprows=max(info.header_line - 1, 0),
            header=0,
            names=info.columns,
            dtype=str,
            chunksize=CHUNK_ROWS,
        )
        first = 1
        for chunk in reader:
            if info.decimal == ",":
                for name in schema.numeric:
                    chunk[name] = chunk[name].str.replace(",", ".", regex=False)
            yield first, chunk
            first += len(chunk)
    except (pd.errors.ParserError, ValueError) as exc:
        raise BatchRefused(f"The file cannot be read as CSV: {exc}".split("\n")[0]) from exc


def _checked(schema: FeatureSchema, chunk: pd.DataFrame, first: int):
    try:
        return check_rows(schema, chunk.to_dict("records"), first_row=first)
    except InputRefused as exc:
        raise BatchRefused(f"The file cannot be scored: {exc.sentence}", exc.fields) from exc


def _header(columns: list[str], answer: dict) -> list[str]:
    added = ["prediction", *(f"probability_{c}" for c in (answer.get("probabilities") or [{}])[0])]
    return [*columns, *(_free(name, columns) for name in added)]


def _free(name: str, taken: list[str]) -> str:
    """`name`, or `name_2`, `name_3`, … when the file already has a column of that name."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


def _output_rows(chunk: pd.DataFrame, answer: dict) -> Iterator[list]:
    probabilities = answer.get("probabilities")
    for index, cells in enumerate(chunk.itertuples(index=False, name=None)):
        row = ["" if pd.isna(cell) else cell for cell in cells]
        row.append(answer["predictions"][index])
        if probabilities:
            row.extend(probabilities[index].values())
        yield row


def spreadsheet_text(value):
    """`value` with a leading ' when it is text a spreadsheet would run as a formula;
    numbers, and text that is a plain number such as "-1.5", are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if not PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value
