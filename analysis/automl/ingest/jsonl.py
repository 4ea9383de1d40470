"""JSON Lines, plain or compressed: one JSON object a line, streamed with pyarrow's JSON reader.

Field types are inferred from the first block. pyarrow's JSON reader cannot widen a field
whose values change type later (integers then ``1.5`` or ``"n/a"``), nor take a field that
first appears after the first block; when it refuses the file, every line is checked with
Python's json instead: a line that is not a JSON object is named to the user, and a file
of valid lines is rewritten as CSV text and read by the CSV reader, whose widening applies.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson

from ..errors import DataFileError
from . import streaming
from .csv_reader import scan_written_csv
from .limits import current_guard
from .scratch import scratch_text
from .source import IngestOptions, SourceInfo, check_width
from .streaming import normal_batch, normal_schema, open_text_stream, read_ahead, text_lines
from .streaming import text_error as _text_error

# Lines between two looks at the clock and at whether the read is still wanted, on the
# slow path that checks each line with Python's json.
CHECK_LINES = 4096


def scan_jsonl(path: Path, info: SourceInfo, visitor_factory):
    """Feed every batch of the JSON Lines file at `path` to one visitor; return info, visitor."""
    visitor = None
    stream = open_text_stream(path, info)
    try:
        reader = pajson.open_json(
            stream,
            read_options=pajson.ReadOptions(block_size=streaming.BLOCK_SIZE),
            parse_options=pajson.ParseOptions(unexpected_field_behavior="infer"),
        )
        schema = normal_schema(reader.schema)
        check_width(len(schema))
        info.columns = list(schema.names)
        visitor = visitor_factory(info, schema) if visitor_factory else None
        with read_ahead(reader) as batches:
            for batch in batches:
                if visitor:
                    visitor.add(normal_batch(batch, schema))
    except pa.ArrowInvalid:
        if visitor:
            visitor.abandon()
        stream.close()
        return _scan_jsonl_as_csv(path, info, visitor_factory)
    except (OSError, EOFError, pa.ArrowException, UnicodeError) as exc:
        if visitor:
            visitor.abandon()
        raise _text_error(exc, info) from exc
    finally:
        stream.close()
    return info, visitor


def _scan_jsonl_as_csv(path: Path, info: SourceInfo, visitor_factory):
    """JSON Lines that pyarrow refused, checked line by line and read as CSV text.

    Slower than pyarrow's reader, but it reads every file of valid JSON objects, and
    names the first line that is not one.
    """
    names: dict[str, None] = {}
    guard = current_guard()
    with text_lines(path, info) as lines:
        for number, line in enumerate(lines, start=1):
            if number % CHECK_LINES == 0:
                guard.check()
            if line.strip():
                record = _json_record(line, number)
                names.update(dict.fromkeys(record))
    check_width(len(names))
    with scratch_text(path) as handle:
        scratch = Path(handle.name)
        writer = csv.writer(handle)
        writer.writerow(list(names))
        with text_lines(path, info) as lines:
            for number, line in enumerate(lines, start=1):
                if number % CHECK_LINES == 0:
                    guard.check()
                if line.strip():
                    record = _json_record(line, number)
                    writer.writerow([_json_text(record.get(name)) for name in names])
    try:
        text_options = IngestOptions(delimiter=",", encoding="utf-8", decimal=".")
        csv_info, visitor = scan_written_csv(scratch, text_options, visitor_factory)
    finally:
        scratch.unlink(missing_ok=True)
    info.columns = csv_info.columns
    return info, visitor


def _json_record(line: str, number: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise DataFileError(
            f"Line {number} is not valid JSON ({getattr(exc, 'msg', exc)}): put one JSON "
            "object per line."
        ) from exc
    if not isinstance(record, dict):
        raise DataFileError(f"Line {number} is not a JSON object: put one object per line.")
    return record


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
