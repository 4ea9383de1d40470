"""Open an uploaded table, whatever its format, and stream it once in bounded memory.

How a file is read
------------------
1. **Detect** (`describe_source`): the format comes from the first bytes, never only from
   the name: Parquet (``PAR1``), Excel .xlsx (a zip holding ``xl/workbook.xml``), a zip,
   gzip or bz2 archive holding a CSV or JSON Lines file, JSON Lines (``{`` on the first
   line), or CSV. For text, the encoding is the byte-order mark, else UTF-8 when the first
   megabyte decodes as UTF-8, else charset-normalizer's guess (Latin-1/cp1252, ...); the
   delimiter is sniffed among ``, ; TAB |`` as the one that splits the first lines into the
   same number of fields; decimal commas are recognised when the delimiter is ``;``.
   Header names are read as pyarrow reads them (quoted names may hold delimiters, quotes
   and line breaks), and kept as they are, except that blank ones become ``column_<n>``
   and repeated ones get ``_2``, ``_3``, ... so every column has a unique name.
2. **Stream** (`scan_table`): pyarrow's streaming readers (``pyarrow.csv.open_csv``,
   ``pyarrow.json.open_json``, ``ParquetFile.iter_batches``) hand over record batches of a
   few MB; a visitor sees each batch once. Column types are inferred from the first block;
   when a later value does not fit (``12`` then ``twelve``), the scan starts again with
   that column widened (integer → float → text). That is rare and bounded by the number of
   columns. An .xlsx sheet is streamed row by row with openpyxl's read-only mode into a
   temporary CSV, after a zip-bomb check of the archive, and then read like any CSV.
3. **Normalise** (`normalize_table`): the same pass writes a Parquet copy beside the upload
   (a hidden file named after the upload's size, time and the read options). Sampling and
   training then read that copy with Dask (`read_table`), which is many times faster than
   parsing the text again, and is identical for every input format.

Memory is one batch plus what the visitors keep; it does not grow with the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import json
import os
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import dask.dataframe as dd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .errors import DataFileError
from .nesting import JsonLinesGuard, refuse_deep_lines

# A documented limit: wider tables are refused with a message (profiles and one-hot
# encodings of more columns do not fit the pages or the models anyway).
MAX_COLUMNS = 2000
# pyarrow reads ahead several blocks at once: 1 MB blocks keep the whole pass near
# 130 MB above the interpreter (2 MB blocks: 180 MB, 16 MB: 600 MB), and were the
# fastest too. Column types are inferred from the first block (10,000 rows or so); a
# later value that does not fit restarts the scan with that column widened.
BLOCK_SIZE = 1 << 20
# Row groups of the Parquet copy, and so Dask's partitions when sampling (about 15 MB).
ROW_GROUP_ROWS = 131_072
# Batches parsed ahead on the reading thread while the visitors work on one: about as
# many as the profiler merges, so parsing goes on while it computes.
READ_AHEAD_BATCHES = 8
# Batches of a Parquet upload: at most about this many bytes (and 65,536 rows).
PARQUET_BATCH_BYTES = 8 << 20
SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
# An archive member that expands more than this many times, beyond the size below, is
# treated as a zip bomb. Real CSV and .xlsx files expand 3-30 times.
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 64 << 20
XLSX_MAX_UNCOMPRESSED = 4 << 30

CSV = "csv"
JSONL = "jsonl"
PARQUET = "parquet"
XLSX = "xlsx"

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls (or other Office) file",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): .*?CSV conversion error to (\w+)")
_JSON_TYPE_ERROR = re.compile(r"Column\((/[^)]*)\) changed from (\w+) to (\w+)")


@dataclass(frozen=True)
class IngestOptions:
    """What the user can override when detection guesses wrong.

    `header_row` is the 1-based line of the header; 0 means the file has no header and
    the columns are named ``column_1``, ``column_2``, ... `sheet` is an .xlsx sheet's
    name or 1-based number. `decimal` is ``"."`` or ``","``.
    """

    delimiter: str | None = None
    encoding: str | None = None
    header_row: int = 1
    sheet: str | None = None
    decimal: str | None = None

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class SourceInfo:
    """What detection found; stored with the profile so the user sees how it was read."""

    format: str
    compression: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    sheet: str | None = None
    columns: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The 1-based line where a CSV header starts (0: no header), blank lines counted.
    header_line: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class Visitor:
    """Sees every batch of one scan. A restarted scan makes a fresh visitor."""

    def add(self, batch: pa.RecordBatch) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def abandon(self) -> None:
        """The scan restarts; release what was built so far."""


def read_table(path: str | Path, *, options: IngestOptions | None = None) -> dd.DataFrame:
    """Return a lazy Dask DataFrame over the table at `path` (any supported format).

    Text, Excel and JSON inputs are read through their normalised Parquet copy, written
    on first use (normally by profiling). Integer columns come back as float64, so a
    missing value never changes a column's type between partitions.
    """
    ddf = dd.read_parquet(parquet_path(path, options=options), split_row_groups=True)
    ints = {c: "float64" for c, t in ddf.dtypes.items() if str(t).startswith(("int", "uint"))}
    return ddf.astype(ints) if ints else ddf


def parquet_path(path: str | Path, *, options: IngestOptions | None = None) -> Path:
    """The Parquet file that holds the table at `path`: itself, or its normalised copy.

    The copy is written now when it is missing (normally profiling has written it).
    """
    path = Path(path)
    options = options or IngestOptions()
    if _is_parquet(path):
        return path
    copy = normalized_path(path, options)
    if not copy.exists():
        normalize_table(path, options=options)
    return copy


def row_count(path: str | Path, *, options: IngestOptions | None = None) -> int:
    """Rows of the table at `path`, from the Parquet metadata (read_table makes the copy)."""
    path = Path(path)
    copy = path if _is_parquet(path) else normalized_path(path, options)
    return pq.read_metadata(copy).num_rows


def normalized_path(path: str | Path, options: IngestOptions | None = None) -> Path:
    """Where the Parquet copy of `path` read with `options` lives (beside the upload)."""
    path = Path(path)
    stat = path.stat()
    key = f"{stat.st_size}:{stat.st_mtime_ns}:{(options or IngestOptions()).key()}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    folder = path.parent if os.access(path.parent, os.W_OK) else Path(tempfile.gettempdir())
    return folder / f".{path.name}.{digest}.parquet"


def remove_normalized(path: str | Path) -> None:
    """Delete every Parquet copy made of `path` (call when the upload is deleted)."""
    path = Path(path)
    for copy in path.parent.glob(f".{path.name}.*.parquet"):
        copy.unlink(missing_ok=True)


def normalize_table(
    path: str | Path,
    *,
    options: IngestOptions | None = None,
    visitor_factory: Callable[[SourceInfo, pa.Schema], Visitor] | None = None,
) -> tuple[Path, SourceInfo, Visitor | None]:
    """Stream `path` once, writing its Parquet copy and feeding `visitor_factory`'s visitor.

    Returns the copy's path, what detection found, and the visitor that saw every row.
    A Parquet input is not copied.
    """
    path = Path(path)
    options = options or IngestOptions()
    if _is_parquet(path):
        info, visitor = scan_table(path, options=options, visitor_factory=visitor_factory)
        return path, info, visitor
    copy = normalized_path(path, options)
    partial = copy.with_name(copy.name + f".{os.getpid()}.partial")

    writers: list[_ParquetWriter] = []

    def both(info: SourceInfo, schema: pa.Schema) -> Visitor:
        writers.append(_ParquetWriter(partial, schema))
        return _Tee(writers[-1], visitor_factory and visitor_factory(info, schema))

    try:
        info, tee = scan_table(path, options=options, visitor_factory=both)
        tee.close()
        os.replace(partial, copy)
    finally:
        for writer in writers:
            writer.stop()
        partial.unlink(missing_ok=True)
    return copy, info, tee.other


def scan_table(
    path: str | Path,
    *,
    options: IngestOptions | None = None,
    visitor_factory: Callable[[SourceInfo, pa.Schema], Visitor] | None = None,
) -> tuple[SourceInfo, Visitor | None]:
    """Feed every record batch of the table at `path` to one visitor, exactly once.

    Raises DataFileError, with one sentence for the user, when the file cannot be read.
    """
    path = Path(path)
    options = options or IngestOptions()
    if path.stat().st_size == 0:
        raise DataFileError("The file is empty: upload a table with a header row and data rows.")
    try:
        with scan_memory_pool():
            if _is_parquet(path):
                return _scan_parquet(path, visitor_factory)
            head = _read_head(path, 16)
            if head.startswith(b"PK\x03\x04") and _is_xlsx(path):
                return _scan_xlsx(path, options, visitor_factory)
            return _scan_text(path, options, visitor_factory)
    except (RecursionError, MemoryError) as exc:
        raise _exhausted_error(exc) from exc


@contextlib.contextmanager
def scan_memory_pool():
    """Arrow memory for one pass over a file comes from jemalloc, where pyarrow has it.

    A pass allocates and frees a few MB a batch on several threads (parsing, the
    visitors, the Parquet writer). pyarrow's default allocator, mimalloc, kept about
    50 MB more of that resident at the peak; jemalloc gives it back after a short
    delay, or at once when the pass ends. A pool chosen with ARROW_DEFAULT_MEMORY_POOL
    is left as it is.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
        # What the pass freed goes back to the system now, not after jemalloc's decay
        # delay: the next pass (sampling after profiling) then starts from less.
        pool.release_unused()


def describe_source(path: str | Path, options: IngestOptions | None = None) -> SourceInfo:
    """Detect format, compression, encoding, delimiter and header without reading it all."""
    path = Path(path)
    options = options or IngestOptions()
    if _is_parquet(path):
        return SourceInfo(format=PARQUET, columns=pq.read_schema(path).names)
    if _is_xlsx(path):
        return SourceInfo(format=XLSX, sheet=options.sheet)
    return _detect_text(path, options)


# Parquet


def _scan_parquet(path: Path, visitor_factory):
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)
        schema = parquet.schema_arrow
        info = SourceInfo(format=PARQUET, columns=list(schema.names))
        _check_width(len(schema.names))
        visitor = visitor_factory(info, schema) if visitor_factory else None
        batches = parquet_batches(parquet, max_rows=65_536, max_bytes=PARQUET_BATCH_BYTES)
        with _read_ahead(batches, depth=2) as ahead:
            for batch in ahead:
                if visitor:
                    visitor.add(batch)
    except MemoryError:  # pyarrow's ArrowMemoryError too: scan_table words it
        raise
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(
            f"The Parquet file could not be read ({_first_line(exc)}): export it again "
            "from its source, or upload a CSV."
        ) from exc
    return info, visitor


def parquet_batches(parquet: pq.ParquetFile, *, max_rows: int, max_bytes: int):
    """Every row of `parquet`, row group by row group, in batches of bounded size."""
    for group in range(parquet.metadata.num_row_groups):
        yield from row_group_batches(parquet, group, max_rows=max_rows, max_bytes=max_bytes)


def row_group_batches(parquet: pq.ParquetFile, group: int, *, max_rows: int, max_bytes: int):
    """The rows of one row group of `parquet`, in batches of bounded size.

    A batch holds at most `max_rows` rows and, judged by the row group's size in the
    file's metadata, about `max_bytes` bytes, so a wide table comes in shorter batches.
    Open the file with ``pre_buffer=False``: pyarrow then reads each row group's columns
    as it decodes them, instead of fetching whole row groups ahead. Columns are decoded
    on the calling thread: decoding them on pyarrow's threads as well was hardly faster
    on two cores, and made the peak memory vary by 30-40 MB from run to run.
    """
    info = parquet.metadata.row_group(group)
    row_bytes = max(info.total_byte_size / max(info.num_rows, 1), 1)
    size = int(max(1024, min(max_rows, max_bytes / row_bytes)))
    yield from parquet.iter_batches(batch_size=size, row_groups=[group], use_threads=False)


# Text: CSV and JSON Lines, plain or compressed


def _detect_text(path: Path, options: IngestOptions) -> SourceInfo:
    compression = _compression(path)
    raw = _decompressed_head(path, compression)
    if not raw.strip():
        raise DataFileError("The file is empty: upload a table with a header row and data rows.")
    _refuse_binary(raw, compression)
    encoding = options.encoding or _detect_encoding(raw)
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise DataFileError(
            f"{encoding!r} is not an encoding PROMISE knows: choose one such as utf-8, "
            "utf-16 or cp1252."
        ) from exc
    text = _decode_head(raw, codec.name)
    first = text.lstrip().split("\n", 1)[0].strip()
    if first.startswith("{"):
        # Measured before json parses it: a line nested thousands deep is refused here.
        refuse_deep_lines(first.encode(), first_line=text[: text.find("{")].count("\n") + 1)
        if _is_json_object(first):
            return SourceInfo(format=JSONL, compression=compression, encoding=codec.name)
    delimiter = options.delimiter or _sniff_delimiter(text)
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise DataFileError(
            f"The delimiter must be a single character, not {delimiter!r}: use , ; | or tab."
        )
    header_row = max(int(options.header_row), 0)
    header_line, records = _head_records(text, delimiter, skip_lines=max(header_row - 1, 0))
    if header_row and not records:
        lines = len(text.rstrip("\n").split("\n"))
        raise DataFileError(
            f"Line {header_row} was chosen as the header, but the file has only "
            f"{lines} lines: choose an earlier header row."
        )
    if header_row == 0:
        header_line = 0
        width = len(records[0]) if records else 1
        raw_names = [f"column_{i}" for i in range(1, width + 1)]
    else:
        raw_names = records[0]
    _check_width(len(raw_names))
    names = unique_names(raw_names)
    renamed = {
        f"column {i}" if not str(old).strip() else str(old): new
        for i, (old, new) in enumerate(zip(raw_names, names, strict=True), start=1)
        if old != new and header_row
    }
    data = records[1:] if header_row else records
    decimal = options.decimal or _sniff_decimal(data, delimiter)
    info = SourceInfo(
        format=CSV,
        compression=compression,
        encoding=codec.name,
        delimiter=delimiter,
        decimal=decimal,
        columns=names,
        renamed=renamed,
        header_line=header_line,
    )
    if renamed:
        info.notes.append(
            "Some header names were blank or repeated and were renamed: "
            + ", ".join(f"{old!r} → {new!r}" for old, new in list(renamed.items())[:5])
            + ("…" if len(renamed) > 5 else "")
            + "."
        )
    return info


def _scan_text(path: Path, options: IngestOptions, visitor_factory):
    info = _detect_text(path, options)
    if info.format == JSONL:
        return _scan_jsonl(path, info, visitor_factory)
    return _scan_csv(path, options, info, visitor_factory)


def _scan_csv(path: Path, options: IngestOptions, info: SourceInfo, visitor_factory):
    column_types: dict[str, pa.DataType] = {}
    ragged: list[tuple[int, str] | None] = []  # the first bad row, then one None a row

    def on_invalid_row(row) -> str:
        if not ragged:
            ragged.append((row.actual_columns, row.text))
        ragged.append(None)
        return "skip"

    for _attempt in range(len(info.columns) + 2):
        ragged.clear()
        read = pacsv.ReadOptions(
            column_names=info.columns,
            # pyarrow skips lines before the names but records after them: the header is
            # skipped as one record, so quoted names may hold line breaks.
            skip_rows=max(info.header_line - 1, 0),
            skip_rows_after_names=1 if info.header_line else 0,
            block_size=BLOCK_SIZE,
            use_threads=True,
        )
        parse = pacsv.ParseOptions(
            delimiter=info.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
        )
        convert = pacsv.ConvertOptions(
            column_types=column_types,
            strings_can_be_null=True,
            decimal_point=info.decimal,
            quoted_strings_can_be_null=True,
        )
        visitor = None
        stream = _open_text_stream(path, info)
        try:
            reader = pacsv.open_csv(
                stream, read_options=read, parse_options=parse, convert_options=convert
            )
            schema = _normal_schema(reader.schema)
            visitor = visitor_factory(info, schema) if visitor_factory else None
            with _read_ahead(reader) as batches:
                for batch in batches:
                    if visitor:
                        visitor.add(_normal_batch(batch, schema))
        except pa.ArrowInvalid as exc:
            if visitor:
                visitor.abandon()
            widened = _widen(exc, info.columns, column_types)
            if widened is None:
                raise _text_error(exc, path, info) from exc
            column_types = widened
            continue
        except (OSError, EOFError, pa.ArrowException, UnicodeError, zipfile.BadZipFile) as exc:
            if visitor:
                visitor.abandon()
            raise _text_error(exc, path, info) from exc
        finally:
            stream.close()
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


def _scan_jsonl(path: Path, info: SourceInfo, visitor_factory):
    while True:
        visitor = None
        stream = _open_text_stream(path, info)
        try:
            reader = pajson.open_json(
                stream,
                read_options=pajson.ReadOptions(block_size=BLOCK_SIZE),
                parse_options=pajson.ParseOptions(unexpected_field_behavior="infer"),
            )
            schema = _normal_schema(reader.schema)
            _check_width(len(schema))
            info.columns = list(schema.names)
            visitor = visitor_factory(info, schema) if visitor_factory else None
            with _read_ahead(reader) as batches:
                for batch in batches:
                    if visitor:
                        visitor.add(_normal_batch(batch, schema))
        except pa.ArrowInvalid as exc:
            if visitor:
                visitor.abandon()
            if not _JSON_TYPE_ERROR.search(str(exc)):
                raise _text_error(exc, path, info) from exc
            # pyarrow cannot widen a JSON field from number to text: go through CSV text,
            # where the CSV reader's widening applies.
            return _scan_jsonl_as_csv(path, info, visitor_factory)
        except (OSError, EOFError, pa.ArrowException, UnicodeError) as exc:
            if visitor:
                visitor.abandon()
            raise _text_error(exc, path, info) from exc
        finally:
            stream.close()
        return info, visitor


def _scan_jsonl_as_csv(path: Path, info: SourceInfo, visitor_factory):
    """JSON Lines whose fields change type, rewritten as CSV text (slower, but reads)."""
    names: dict[str, None] = {}
    with _text_lines(path, info) as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                record = _json_record(line, number)
                names.update(dict.fromkeys(record))
    _check_width(len(names))
    with tempfile.NamedTemporaryFile(
        "w", suffix=".csv", delete=False, encoding="utf-8", newline="", dir=_scratch(path)
    ) as handle:
        scratch = Path(handle.name)
        writer = csv.writer(handle)
        writer.writerow(list(names))
        with _text_lines(path, info) as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    record = _json_record(line, number)
                    writer.writerow([_json_text(record.get(name)) for name in names])
    try:
        text_options = IngestOptions(delimiter=",", encoding="utf-8", decimal=".")
        csv_info, visitor = _scan_text(scratch, text_options, visitor_factory)
    finally:
        scratch.unlink(missing_ok=True)
    info.columns = csv_info.columns
    return info, visitor


class _text_lines:
    def __init__(self, path: Path, info: SourceInfo):
        self.stream = _open_text_stream(path, info)

    def __enter__(self):
        return io.TextIOWrapper(_PyArrowRaw(self.stream), encoding="utf-8", errors="replace")

    def __exit__(self, *exc):
        self.stream.close()


def _json_record(line: str, number: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise DataFileError(
            f"Line {number} is not valid JSON ({exc.msg}): put one JSON object per line."
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


def _open_text_stream(path: Path, info: SourceInfo):
    if info.compression == "zip":
        archive = zipfile.ZipFile(path)
        stream = pa.PythonFile(archive.open(_zip_member(archive)), mode="r")
    else:
        stream = pa.input_stream(str(path), compression=info.compression)
    if info.encoding not in ("utf-8", "utf-8-sig"):
        stream = pa.transcoding_input_stream(stream, info.encoding, "utf-8")
    if info.format == JSONL:
        # Every line is measured before pyarrow or json parses it: a line nested too
        # deep would crash pyarrow's reader (see nesting.py).
        stream = pa.PythonFile(JsonLinesGuard(stream), mode="r")
    return stream


def _widen(exc: Exception, columns: list[str], types: dict) -> dict | None:
    """The column types for the next attempt after a conversion error, or None."""
    match = _CONVERSION_ERROR.search(str(exc))
    if not match:
        return None
    name = columns[int(match.group(1))]
    wanted = pa.string()
    value = re.search(r"invalid value '([^']*)'", str(exc))
    if match.group(2).startswith(("int", "uint", "null")) and value and _is_float(value.group(1)):
        wanted = pa.float64()
    if types.get(name) == wanted:
        return None
    return {**types, name: wanted}


def _exhausted_error(exc: BaseException) -> DataFileError:
    """The sentence for a file whose reading ran out of stack (nesting) or memory."""
    if isinstance(exc, RecursionError):
        return DataFileError(
            "The file nests its values too deeply to be read as a table: flatten the nested "
            "values, or upload a CSV."
        )
    return DataFileError(
        "The file needs more memory to read than PROMISE has (a line or a value is very "
        "large?): split it into smaller lines or values, or upload it as Parquet."
    )


def _text_error(exc: Exception, path: Path, info: SourceInfo) -> DataFileError:
    if isinstance(exc, MemoryError):  # pyarrow's ArrowMemoryError too
        return _exhausted_error(exc)
    message = str(exc)
    if info.compression and ("truncated" in message.lower() or isinstance(exc, EOFError)):
        return DataFileError(
            f"The {info.compression} archive is cut short (the upload or the compression was "
            "interrupted): compress the file again and upload it again."
        )
    if "UTF8" in message or "utf-8" in message.lower() or isinstance(exc, UnicodeError):
        return DataFileError(
            f"The file is not valid {info.encoding} text: choose its encoding (for example "
            "cp1252 or utf-16) and read it again."
        )
    if info.format == JSONL:
        return DataFileError(
            f"The JSON Lines file could not be read ({_first_line(exc)}): put one JSON "
            "object per line."
        )
    return DataFileError(
        f"The file could not be read as CSV ({_first_line(exc)}): check the delimiter, "
        "encoding and header row, and read it again with those set."
    )


def _find_line(path: Path, info: SourceInfo, text: str) -> int | None:
    """The 1-based line where the row `text` starts (a slow scan, only on the error path)."""
    stream = _open_text_stream(path, info)
    try:
        reader = io.TextIOWrapper(_PyArrowRaw(stream), encoding="utf-8", errors="replace")
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


class _PyArrowRaw(io.RawIOBase):
    def __init__(self, stream):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _compression(path: Path) -> str | None:
    head = _read_head(path, 4)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _decompressed_head(path: Path, compression: str | None) -> bytes:
    if compression == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                member = _zip_member(archive)
                with archive.open(member) as handle:
                    return handle.read(SNIFF_BYTES)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DataFileError(
                "The zip archive is damaged: create it again and upload it again."
            ) from exc
    try:
        with pa.input_stream(str(path), compression=compression) as stream:
            return stream.read(SNIFF_BYTES)
    except (OSError, pa.ArrowException) as exc:
        raise DataFileError(
            f"The {compression} archive is damaged or cut short: compress the file again "
            "and upload it again."
        ) from exc


def _zip_member(archive: zipfile.ZipFile) -> str:
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir() and not m.filename.startswith("__MACOSX") and m.file_size
    ]
    if not members:
        raise DataFileError("The zip archive holds no file: put the CSV file in it.")
    if len(members) > 1:
        raise DataFileError(
            f"The zip archive holds {len(members)} files: put only the one table in it."
        )
    _refuse_bomb(members)
    return members[0].filename


def _refuse_bomb(members: list[zipfile.ZipInfo], limit: int | None = None) -> None:
    total = sum(m.file_size for m in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and ratio > ZIP_MAX_RATIO:
            raise DataFileError(
                f"The archive expands {ratio:,.0f} times ({member.file_size / 1e9:,.1f} GB), "
                "which is how zip bombs look, not tables: upload the table itself."
            )
    if limit is not None and total > limit:
        raise DataFileError(
            f"The workbook expands to {total / 1e9:,.1f} GB, more than PROMISE reads from "
            "an .xlsx: save the sheet as CSV and upload that."
        )


def _refuse_binary(raw: bytes, compression: str | None) -> None:
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            hint = (
                "save it as .xlsx or CSV"
                if "Excel" in what
                else "upload a CSV, Excel, JSON Lines or Parquet file"
            )
            raise DataFileError(f"The file holds binary data ({what}), not a text table: {hint}.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    sample = raw[:8192]
    controls = sum(byte < 9 or 13 < byte < 32 for byte in sample)
    # UTF-16 without a byte-order mark has a NUL in every other byte of ASCII text.
    if sample.count(b"\x00") > len(sample) * 0.3 and _utf16_without_bom(sample):
        return
    if b"\x00" in sample or controls > len(sample) * 0.05:
        where = " inside the archive" if compression else ""
        raise DataFileError(
            f"The file{where} holds binary data (an image, archive or program?), not a text "
            "table: upload a CSV, Excel, JSON Lines or Parquet file."
        )


def _utf16_without_bom(sample: bytes) -> bool:
    return sample[1::2].count(0) > len(sample) * 0.4 or sample[0::2].count(0) > len(sample) * 0.4


def _detect_encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if raw[:8192].count(b"\x00") > len(raw[:8192]) * 0.3:
        return "utf-16-le" if raw[1::2].count(0) > raw[0::2].count(0) else "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a character at the end of the sample is still UTF-8.
        if exc.start >= len(raw) - 4:
            return "utf-8"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw[:262_144]))
    best = matches[0] if matches else None
    for match in matches:
        # Ties are common between Western code pages; cp1252 is by far the most used.
        if match.encoding in ("cp1252", "latin_1") and (match.chaos, -match.coherence) <= (
            best.chaos + 0.001,
            -best.coherence + 0.001,
        ):
            best = match
            break
    if best is None:
        raise DataFileError(
            "The file's text encoding could not be recognised: save it as UTF-8, or choose "
            "its encoding."
        )
    return {"ascii": "utf-8"}.get(best.encoding, best.encoding)


def _decode_head(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, errors="replace")
    if len(raw) >= SNIFF_BYTES:
        # The last line may be cut; do not judge the file by it.
        text = text[: text.rfind("\n") + 1] or text
    return text.lstrip("\ufeff")


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines(keepends=True)[:200]
    sample = "".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        widths = [w for w in widths if w > 0][:100]
        if not widths or max(widths) < 2:
            continue
        common = max(set(widths), key=widths.count)
        score = (sum(w == common for w in widths) * (common > 1), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_records(text: str, delimiter: str, *, skip_lines: int) -> tuple[int, list[list[str]]]:
    """The records after `skip_lines` lines, blank ones left out, and the first one's line.

    This is how pyarrow finds a header: it skips lines (``skip_rows``), then reads the
    first record that is not blank, whose quoted fields may span several lines.
    """
    lines = io.StringIO(text)
    for _ in range(skip_lines):
        lines.readline()
    reader = csv.reader(lines, delimiter=delimiter)
    records, first_line = [], skip_lines + 1
    try:
        for record in reader:
            if record:
                records.append(record)
            elif not records:
                first_line = skip_lines + reader.line_num + 1
    except csv.Error:
        # Not CSV as the csv module knows it (a stray carriage return, say): plain lines.
        rest = text.split("\n")[skip_lines:]
        first_line = skip_lines + 1 + next((i for i, line in enumerate(rest) if line.strip()), 0)
        records = [line.rstrip("\r").split(delimiter) for line in rest if line.strip()]
    return first_line, records


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    values = [v.strip() for row in rows[:500] for v in row]
    comma = sum(bool(re.fullmatch(r"-?\d+,\d+", v)) for v in values)
    dot = sum(bool(re.fullmatch(r"-?\d+\.\d+", v)) for v in values)
    return "," if comma > dot else "."


def unique_names(names: list) -> list[str]:
    """Header names as the file has them, made unique: blanks become column_<n>, repeats _2, _3.

    Other names are kept exactly, spaces and line breaks included, as pandas and pyarrow
    read them: the exported code finds its columns by these names in the user's file.
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        text = str(name if name is not None else "")
        base = text if text.strip() else f"column_{i}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _normal_schema(schema: pa.Schema) -> pa.Schema:
    """Dates as timestamps and nested values as JSON text: types every reader downstream knows."""
    fields = []
    for f in schema:
        if pa.types.is_date(f.type):
            f = f.with_type(pa.timestamp("s"))
        elif pa.types.is_nested(f.type) or pa.types.is_null(f.type):
            f = f.with_type(pa.string())
        elif pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            f = f.with_type(pa.string())
        fields.append(f)
    return pa.schema(fields)


def _normal_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    columns = []
    for array, target in zip(batch.columns, schema, strict=True):
        if array.type.equals(target.type):
            columns.append(array)
        elif pa.types.is_nested(array.type):
            columns.append(
                pa.array(
                    [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
                    pa.string(),
                )
            )
        else:
            columns.append(array.cast(target.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _check_width(width: int) -> None:
    if width > MAX_COLUMNS:
        raise DataFileError(
            f"The table has {width:,} columns; PROMISE reads at most {MAX_COLUMNS:,}: keep "
            "the columns you need and upload it again."
        )


# Excel


def _is_xlsx(path: Path) -> bool:
    if not _read_head(path, 4).startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _scan_xlsx(path: Path, options: IngestOptions, visitor_factory):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            _refuse_bomb(archive.infolist(), limit=XLSX_MAX_UNCOMPRESSED)
        book = load_workbook(path, read_only=True, data_only=True)
    except (DataFileError, RecursionError, MemoryError):
        raise
    except Exception as exc:  # openpyxl raises many types on damaged workbooks
        raise DataFileError(
            f"The Excel workbook could not be opened ({_first_line(exc)}): open and save it "
            "again in Excel, or save the sheet as CSV."
        ) from exc
    try:
        sheet = _choose_sheet(book, options.sheet)
        with tempfile.NamedTemporaryFile(
            "w", suffix=".csv", delete=False, encoding="utf-8", newline="", dir=_scratch(path)
        ) as handle:
            scratch = Path(handle.name)
            writer = csv.writer(handle)
            try:
                for row in sheet.iter_rows(values_only=True):
                    if row and any(v is not None and v != "" for v in row):
                        writer.writerow([_cell_text(v) for v in row])
            except (RecursionError, MemoryError):
                raise
            except Exception as exc:  # a damaged sheet: any openpyxl/XML error
                raise DataFileError(
                    f"The sheet {sheet.title!r} could not be read ({_first_line(exc)}): save "
                    "it as CSV and upload that."
                ) from exc
    finally:
        book.close()
    try:
        if scratch.stat().st_size == 0:
            raise DataFileError(f"The sheet {sheet.title!r} is empty: choose another sheet.")
        text_options = replace(options, delimiter=",", encoding="utf-8", decimal=".")
        info, visitor = _scan_text(scratch, text_options, visitor_factory)
    finally:
        scratch.unlink(missing_ok=True)
    info.format, info.sheet, info.compression = XLSX, sheet.title, None
    info.delimiter = info.encoding = None
    return info, visitor


def _choose_sheet(book, wanted: str | None):
    if not wanted:
        return book.worksheets[0]
    if wanted in book.sheetnames:
        return book[wanted]
    if str(wanted).isdigit() and 1 <= int(wanted) <= len(book.sheetnames):
        return book.worksheets[int(wanted) - 1]
    raise DataFileError(
        f"The workbook has no sheet {wanted!r}; its sheets are: {', '.join(book.sheetnames)}."
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _scratch(path: Path) -> str:
    return str(path.parent) if os.access(path.parent, os.W_OK) else tempfile.gettempdir()


# Helpers


class _ParquetWriter(Visitor):
    """Writes batches to Parquet on its own thread, so encoding overlaps with profiling.

    The queue holds at most eight small batches, which keeps memory flat when writing is slower.
    """

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        # Dictionary pages only where they pay (text); statistics are not read back.
        text = [f.name for f in schema if pa.types.is_string(f.type)]
        self.writer = pq.ParquetWriter(
            path, schema, compression="snappy", use_dictionary=text, write_statistics=False
        )
        self.queue: queue.Queue = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        pending, rows = [], 0
        while True:
            batch = self.queue.get()
            if batch is not None:
                pending.append(batch)
                rows += batch.num_rows
            if pending and (batch is None or rows >= ROW_GROUP_ROWS) and self.error is None:
                try:
                    self.writer.write_table(pa.Table.from_batches(pending))
                except BaseException as exc:  # re-raised on the caller's thread in close()
                    self.error = exc
                pending, rows = [], 0
            if batch is None:
                return

    def add(self, batch: pa.RecordBatch) -> None:
        self.queue.put(batch)

    def stop(self) -> None:
        """End the writing thread and close the file (safe to call twice)."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.writer.is_open:
            self.writer.close()

    def abandon(self) -> None:
        self.stop()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.stop()
        if self.error is not None:
            raise DataFileError(
                f"The normalised copy could not be written ({_first_line(self.error)}): "
                "free some disk space and try again."
            ) from self.error


class _read_ahead:
    """Iterate a record batch reader whose parsing runs on a thread of its own.

    pyarrow parses without holding the GIL, so the next batches are parsed while the
    visitors work on this one (another core), instead of one after the other. At most
    `depth` batches wait, so memory stays flat. A reading error is raised
    here, on the caller's thread, as it was raised there. Leaving the block early stops
    the thread before the stream it reads can be closed.
    """

    _END = object()

    def __init__(self, reader, depth: int = READ_AHEAD_BATCHES):
        self.reader = reader
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True, name="ingest-read")

    def __enter__(self):
        self.thread.start()
        return self._batches()

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        while self.thread.is_alive():
            try:
                self.queue.get(timeout=0.05)  # unblock a waiting put
            except queue.Empty:
                pass
        self.thread.join()

    def _read(self) -> None:
        try:
            for batch in self.reader:
                if not self._put(batch):
                    return
            self._put(self._END)
        except BaseException as exc:  # re-raised on the caller's thread
            self._put(exc)

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _batches(self):
        while True:
            item = self.queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


class _Tee(Visitor):
    def __init__(self, writer: _ParquetWriter, other: Visitor | None):
        self.writer, self.other = writer, other

    def add(self, batch: pa.RecordBatch) -> None:
        self.writer.add(batch)
        if self.other:
            self.other.add(batch)

    def abandon(self) -> None:
        self.writer.abandon()
        if self.other:
            self.other.abandon()

    def close(self) -> None:
        self.writer.close()


def _is_parquet(path: Path) -> bool:
    return _read_head(path, 4) == b"PAR1"


def _read_head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


__all__ = [
    "CSV",
    "JSONL",
    "MAX_COLUMNS",
    "PARQUET",
    "XLSX",
    "IngestOptions",
    "SourceInfo",
    "Visitor",
    "describe_source",
    "normalize_table",
    "normalized_path",
    "parquet_batches",
    "parquet_path",
    "read_table",
    "remove_normalized",
    "row_group_batches",
    "scan_memory_pool",
    "scan_table",
    "unique_names",
]
