"""Parquet uploads (and our own Parquet copies): read in batches of bounded size."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DataFileError
from .limits import current_guard
from .source import PARQUET, SourceInfo, check_width, first_line
from .streaming import read_ahead

# Batches of a Parquet upload: at most about this many bytes (and 65,536 rows).
PARQUET_BATCH_BYTES = 8 << 20


def scan_parquet(path: Path, visitor_factory):
    """Feed every batch of the Parquet file at `path` to one visitor; return info, visitor.

    Parquet is compressed too: a constant column of a billion rows takes a few kilobytes.
    Its row count is known before reading, and is checked then; the bytes its batches take
    decoded are checked as they come against the file's bytes they came from (the file's
    size times the share of its rows read so far).
    """
    guard = current_guard()
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)
        schema = parquet.schema_arrow
        info = SourceInfo(format=PARQUET, columns=list(schema.names))
        check_width(len(schema.names))
        total_rows = parquet.metadata.num_rows
        guard.check_rows(total_rows)
        file_bytes = path.stat().st_size
        visitor = visitor_factory(info, schema) if visitor_factory else None
        batches = parquet_batches(parquet, max_rows=65_536, max_bytes=PARQUET_BATCH_BYTES)
        rows = decoded = 0
        with read_ahead(batches, depth=2) as ahead:
            for batch in ahead:
                rows += batch.num_rows
                decoded += batch.nbytes
                guard.check_bytes(
                    decoded,
                    max(file_bytes * rows // max(total_rows, 1), 1),
                    what="Parquet file",
                    limit=guard.limits.decompressed_bytes,
                )
                if visitor:
                    visitor.add(batch)
    except MemoryError:  # pyarrow's ArrowMemoryError too: scan_table words it
        raise
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(
            f"The Parquet file could not be read ({first_line(exc)}): export it again "
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
