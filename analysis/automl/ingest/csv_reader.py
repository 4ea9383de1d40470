"""CSV and other delimited text, plain or compressed, streamed with pyarrow's CSV reader.

Column types are inferred from the first block. When a later value does not fit (``12``
then ``twelve``), the reader raises and the scan is abandoned; one more pass then reads
every column as text and checks each column's values against its inferred type with
pyarrow's own CSV converter, so the columns that need it are widened (integer or empty →
float → text, any other type → text) from the values themselves, whatever the error said.
The scan then starts again with those types. That is rare, and costs two more passes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import DataFileError
from . import streaming
from .detect import detect_text
from .limits import current_guard
from .source import IngestOptions, SourceInfo
from .streaming import PyArrowRaw, normal_batch, normal_schema, open_text_stream, read_ahead
from .streaming import text_error as _text_error

# What reading a damaged, truncated or wrongly decoded file raises.
_READ_ERRORS = (OSError, EOFError, pa.ArrowException, UnicodeError, zipfile.BadZipFile)
# Types the converter cannot refuse a value for: no column of these types is widened.
_TEXT_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())


def scan_csv(path: Path, info: SourceInfo, visitor_factory):
    """Feed every batch of the delimited file at `path`, read as `info` says, to one visitor.

    Returns `info` and the visitor. A ragged row or an unreadable file raises
    DataFileError with a sentence.
    """
    column_types: dict[str, pa.DataType] = {}
    ragged: list[tuple[int, str] | None] = []  # the first bad row, then one None a row

    def on_invalid_row(row) -> str:
        if not ragged:
            ragged.append((row.actual_columns, row.text))
        ragged.append(None)
        return "skip"

    # Each failed attempt widens at least one column by one step, or raises: at most
    # two steps a column (integer → float → text).
    for _attempt in range(2 * len(info.columns) + 2):
        ragged.clear()
        visitor = inferred = failure = None
        stream = open_text_stream(path, info)
        try:
            reader = pacsv.open_csv(
                stream, **_csv_options(info, column_types, on_invalid_row=on_invalid_row)
            )
            inferred = reader.schema
            schema = normal_schema(inferred)
            visitor = visitor_factory(info, schema) if visitor_factory else None
            with read_ahead(reader) as batches:
                for batch in batches:
                    if visitor:
                        visitor.add(normal_batch(batch, schema))
        except pa.ArrowInvalid as exc:
            if visitor:
                visitor.abandon()
            failure = exc
        except _READ_ERRORS as exc:
            if visitor:
                visitor.abandon()
            raise _text_error(exc, info) from exc
        finally:
            stream.close()
        if failure is not None:
            # Only a value that does not fit its column's type is mended by widening; any
            # other invalid input (bad UTF-8, say) fails the text pass too, and is reported.
            try:
                widened = widened_types(path, info, inferred) if inferred is not None else {}
            except _READ_ERRORS as exc:
                raise _text_error(exc, info) from exc
            if not widened:
                raise _text_error(failure, info) from failure
            column_types = {**column_types, **widened}
            continue
        if ragged:
            bad = len(ragged) - 1
            if visitor:
                visitor.abandon()
            fields, text = ragged[0]
            line = _find_line(path, info, text)
            where = f"Line {line}" if line else "A row"
            raise DataFileError(
                f"{where} has {fields} fields but the header has "
                f"{len(info.columns)} ({bad} such row{'s' if bad != 1 else ''} in all): fix "
                "those rows, or choose the right delimiter or header row."
            )
        return info, visitor
    raise DataFileError("The column types could not be settled: save the file as CSV again.")


def scan_written_csv(path: Path, options: IngestOptions, visitor_factory):
    """Scan a CSV file that PROMISE wrote itself (from a sheet or from JSON Lines)."""
    return scan_csv(path, detect_text(path, options), visitor_factory)


def widened_types(path: Path, info: SourceInfo, schema: pa.Schema) -> dict[str, pa.DataType]:
    """The columns of `schema` that some value of the file does not fit, with a type it fits.

    One pass reads every column as text, which no value of valid text can fail, and hands
    each batch to pyarrow's CSV converter with the types of `schema`, under the file's own
    options (decimal point, null values). A column whose values do not all fit moves up
    the ladder integer or empty → float64 → text (any other type → text) until they do.
    Returns only those columns. The text pass raises what reading the file raises (bad
    UTF-8 is ArrowInvalid): that failure is not about types.
    """
    inferred = {f.name: f.type for f in schema}
    types = {name: t for name, t in inferred.items() if t not in _TEXT_TYPES}
    as_text = {name: pa.string() for name in info.columns}
    stream = open_text_stream(path, info)
    try:
        reader = pacsv.open_csv(stream, **_csv_options(info, as_text, on_invalid_row=_skip))
        guard = current_guard()
        for batch in reader:
            guard.check()
            checking = {name: t for name, t in types.items() if t not in _TEXT_TYPES}
            if not checking:
                break
            _widen_to_fit(batch, checking, info.decimal)
            types.update(checking)
    finally:
        stream.close()
    return {name: t for name, t in types.items() if t != inferred[name]}


def _widen_to_fit(batch: pa.RecordBatch, types: dict[str, pa.DataType], decimal: str) -> None:
    """Widen, in place, the entries of `types` that a value of the text `batch` does not fit."""
    if _converts(batch.select(list(types)), types, decimal):
        return  # the common case: the whole batch fits, one conversion for every column
    for name, type_ in list(types.items()):
        values = batch.select([name])
        while type_ not in _TEXT_TYPES and not _converts(values, {name: type_}, decimal):
            type_ = _wider(type_)
        types[name] = type_


def _wider(type_: pa.DataType) -> pa.DataType:
    """The next type up: integers and all-empty columns may still be numbers; else text."""
    if pa.types.is_integer(type_) or pa.types.is_null(type_):
        return pa.float64()
    return pa.string()


def _converts(text: pa.RecordBatch, types: dict[str, pa.DataType], decimal: str) -> bool:
    """Whether pyarrow's CSV converter takes every value of the text columns as `types`.

    The values go through the same converter as the file did (written as CSV and read
    back), so what fits here is exactly what the next read will accept.
    """
    sink = io.BytesIO()
    pacsv.write_csv(text, sink)
    try:
        pacsv.read_csv(
            pa.py_buffer(sink.getvalue()),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=_convert_options(types, decimal),
        )
    except pa.ArrowInvalid:
        return False
    return True


def _csv_options(info: SourceInfo, column_types: dict, *, on_invalid_row) -> dict:
    """The read, parse and convert options of `pacsv.open_csv` for the file `info` describes."""
    return {
        "read_options": pacsv.ReadOptions(
            column_names=info.columns,
            # pyarrow skips lines before the names but records after them: the header is
            # skipped as one record, so quoted names may hold line breaks.
            skip_rows=max(info.header_line - 1, 0),
            skip_rows_after_names=1 if info.header_line else 0,
            block_size=streaming.BLOCK_SIZE,
            use_threads=True,
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=info.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
        ),
        "convert_options": _convert_options(column_types, info.decimal),
    }


def _convert_options(column_types: dict, decimal: str) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types=column_types,
        strings_can_be_null=True,
        decimal_point=decimal,
        quoted_strings_can_be_null=True,
    )


def _skip(row) -> str:
    return "skip"


def _find_line(path: Path, info: SourceInfo, text: str) -> int | None:
    """The 1-based line where the row `text` starts (a slow scan, only on the error path)."""
    stream = open_text_stream(path, info)
    try:
        reader = io.TextIOWrapper(PyArrowRaw(stream), encoding="utf-8", errors="replace")
        records = csv.reader(reader, delimiter=info.delimiter)
        target = next(csv.reader([text], delimiter=info.delimiter), None)
        line = 1
        for record in records:
            if record == target:
                return line
            line = records.line_num + 1
    except (OSError, csv.Error, pa.ArrowException):
        return None
    finally:
        stream.close()
    return None
