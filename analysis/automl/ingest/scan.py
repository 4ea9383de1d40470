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
        with scan_memory_pool():
            if is_parquet(path):
                return scan_parquet(path, visitor_factory)
            head = read_head(path, 16)
            if head.startswith(b"PK\x03\x04") and is_xlsx(path):
                return scan_xlsx(path, options, visitor_factory)
            info = detect_text(path, options)
            if info.format == JSONL:
                return scan_jsonl(path, info, visitor_factory)
            return scan_csv(path, info, visitor_factory)
    except (RecursionError, MemoryError) as exc:
        raise exhausted_error(exc) from exc


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
