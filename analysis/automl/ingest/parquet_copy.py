"""The normalised Parquet copy of an upload, written by the same pass that profiles it.

The copy is a hidden file beside the upload, named after the upload's size, time and the
read options. Sampling and training read that copy with Dask (`read_table`), which is many
times faster than parsing the text again, and is identical for every input format.
"""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import dask.dataframe as dd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DataFileError
from .detect import is_parquet
from .scan import scan_table
from .scratch import partial_path, remove_crashed_partials
from .source import IngestOptions, SourceInfo, Visitor, first_line

# Row groups of the Parquet copy, and so Dask's partitions when sampling (about 15 MB).
ROW_GROUP_ROWS = 131_072


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
    if is_parquet(path):
        return path
    copy = normalized_path(path, options)
    if not copy.exists():
        normalize_table(path, options=options)
    return copy


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
    if is_parquet(path):
        info, visitor = scan_table(path, options=options, visitor_factory=visitor_factory)
        return path, info, visitor
    copy = normalized_path(path, options)
    remove_crashed_partials(path)
    partial = partial_path(copy)

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
                f"The normalised copy could not be written ({first_line(self.error)}): "
                "free some disk space and try again."
            ) from self.error


class _Tee(Visitor):
    """Hands each batch to the Parquet writer and to the caller's visitor, if any."""

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
