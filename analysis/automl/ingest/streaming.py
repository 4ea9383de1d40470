"""Streaming record batches: text streams, parsing ahead on a thread, one schema for all readers.

pyarrow's streaming readers (``pyarrow.csv.open_csv``, ``pyarrow.json.open_json``,
``ParquetFile.iter_batches``) hand over record batches of a few MB; a visitor sees each
batch once. Memory is one batch plus what the visitors keep; it does not grow with the file.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from pathlib import Path

import pyarrow as pa

from ..errors import DataFileError
from ..nesting import JsonLinesGuard
from .archives import open_decompressed
from .source import JSONL, SourceInfo, first_line

# pyarrow reads ahead several blocks at once: 1 MB blocks keep the whole pass near
# 130 MB above the interpreter (2 MB blocks: 180 MB, 16 MB: 600 MB), and were the
# fastest too. Column types are inferred from the first block (10,000 rows or so); a
# later value that does not fit restarts the scan with that column widened. Readers
# look it up here when they open a file, so a test can make the blocks small.
BLOCK_SIZE = 1 << 20
# Batches parsed ahead on the reading thread while the visitors work on one: about as
# many as the profiler merges, so parsing goes on while it computes.
READ_AHEAD_BATCHES = 8


def open_text_stream(path: Path, info: SourceInfo):
    """The upload's text as a UTF-8 pyarrow stream: decompressed, transcoded, and for JSON
    Lines guarded against lines nested too deep."""
    stream = open_decompressed(path, info.compression)
    if info.encoding not in ("utf-8", "utf-8-sig"):
        stream = pa.transcoding_input_stream(stream, info.encoding, "utf-8")
    if info.format == JSONL:
        # Every line is measured before pyarrow or json parses it: a line nested too
        # deep would crash pyarrow's reader (see nesting.py).
        stream = pa.PythonFile(JsonLinesGuard(stream), mode="r")
    return stream


class text_lines:
    """``with text_lines(path, info) as lines:`` the upload's text, line by line (UTF-8)."""

    def __init__(self, path: Path, info: SourceInfo):
        self.stream = open_text_stream(path, info)

    def __enter__(self):
        return io.TextIOWrapper(PyArrowRaw(self.stream), encoding="utf-8", errors="replace")

    def __exit__(self, *exc):
        self.stream.close()


class PyArrowRaw(io.RawIOBase):
    """A pyarrow input stream seen as a Python raw stream (for TextIOWrapper and csv)."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def normal_schema(schema: pa.Schema) -> pa.Schema:
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


def normal_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` cast to `schema` (from normal_schema); nested values become JSON text."""
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


class read_ahead:
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


def exhausted_error(exc: BaseException) -> DataFileError:
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


def text_error(exc: BaseException, info: SourceInfo) -> DataFileError:
    """The sentence for a text upload that could not be read, from what failed."""
    if isinstance(exc, MemoryError):  # pyarrow's ArrowMemoryError too
        return exhausted_error(exc)
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
            f"The JSON Lines file could not be read ({first_line(exc)}): put one JSON "
            "object per line."
        )
    return DataFileError(
        f"The file could not be read as CSV ({first_line(exc)}): check the delimiter, "
        "encoding and header row, and read it again with those set."
    )
