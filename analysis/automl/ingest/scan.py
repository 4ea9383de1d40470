"""One pass over an upload of any format: the reader is chosen from the content."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from ..errors import DataFileError
from .csv_reader import scan_csv
from .detect import detect_text, is_parquet, is_xlsx
from .excel import scan_xlsx
from .jsonl import scan_jsonl
from .limits import Guard, reading
from .parquet_input import scan_parquet
from .source import JSONL, IngestOptions, SourceInfo, Visitor, read_head
from .streaming import exhausted_error


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
        with scan_memory_pool(), reading() as guard:
            factory = _guarded_factory(visitor_factory, guard)
            if is_parquet(path):
                info, visitor = scan_parquet(path, factory)
            elif read_head(path, 16).startswith(b"PK\x03\x04") and is_xlsx(path):
                info, visitor = scan_xlsx(path, options, factory)
            else:
                info = detect_text(path, options)
                scan = scan_jsonl if info.format == JSONL else scan_csv
                info, visitor = scan(path, info, factory)
            return info, visitor.inner if visitor is not None else None
    except (RecursionError, MemoryError) as exc:
        raise exhausted_error(exc) from exc


def _guarded_factory(visitor_factory, guard: Guard):
    """A visitor factory whose visitors count rows and columns and watch the clock for
    `guard`, then hand each batch to `visitor_factory`'s visitor, if any."""

    def factory(info: SourceInfo, schema: pa.Schema) -> _Guarded:
        guard.check_columns(len(schema))
        inner = visitor_factory(info, schema) if visitor_factory else None
        return _Guarded(inner, guard)

    return factory


class _Guarded(Visitor):
    """Stops the read at the row limit, the time limit, or when it is no longer wanted."""

    def __init__(self, inner: Visitor | None, guard: Guard):
        self.inner, self.guard, self.rows = inner, guard, 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self.guard.check_rows(self.rows)
        self.guard.check()
        if self.inner is not None:
            self.inner.add(batch)

    def abandon(self) -> None:
        if self.inner is not None:
            self.inner.abandon()


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
