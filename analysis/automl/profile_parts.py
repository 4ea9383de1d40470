"""Profiling a Parquet file on a dask.distributed cluster, in parts run in parallel.

A Parquet file (an upload, or the copy written when a text file was read) is cut into
runs of whole row groups; each run is one task (`profile_part`), whose `Profiler`
starts at the run's first row, and one more task (`profile_merge`) adds the profilers
up in row order and words the profile. Every statistic merges exactly (profile_stats,
profile_sums) and the sample's keys follow the row numbers (profile_pass), so the
profile is the one a single pass gives, value for value.

A text file is not cut: where its records start is not known without reading it from
the top (a quoted value may hold a line break), and its column types settle only once
all of it was read. Its profile is one task, which also writes the Parquet copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .cluster import Cluster
from .ingest import PARQUET, IngestOptions, SourceInfo, row_group_batches, scan_memory_pool
from .ingest.detect import is_parquet
from .ingest.limits import reading
from .ingest.parquet_input import PARQUET_BATCH_BYTES
from .ingest.source import check_width
from .kinds import DatasetProfile
from .profile_pass import Profiler

# Parts per thread of the cluster: a few more parts than threads even out their speeds.
PARTS_PER_THREAD = 2


def profile_in_parts(
    cluster: Cluster, path: str | Path, *, options: IngestOptions | None = None
) -> DatasetProfile | None:
    """The profile of the Parquet file at `path` from parts run on `cluster`; None for a
    file that is not cut (not Parquet, unreadable, empty, or of one row group)."""
    path = Path(path)
    if not is_parquet(path):
        return None
    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return None  # the whole-file task words what is wrong with it
    if not metadata.num_columns or not metadata.num_rows:
        return None
    parts = plan_parts(metadata, cluster.threads() * PARTS_PER_THREAD)
    if len(parts) < 2:
        return None
    futures = [
        cluster.submit(profile_part, str(path), groups, first_row) for groups, first_row in parts
    ]
    return cluster.submit(profile_merge, futures).result()


def plan_parts(metadata: pq.FileMetaData, parts: int) -> list[tuple[list[int], int]]:
    """At most `parts` runs of consecutive row groups, each with the number of its first row."""
    groups = np.arange(metadata.num_row_groups)
    first_rows = np.cumsum([0, *(metadata.row_group(g).num_rows for g in groups)])
    runs = np.array_split(groups, max(1, min(parts, len(groups))))
    return [(run.tolist(), int(first_rows[run[0]])) for run in runs if len(run)]


def profile_part(path: str, groups: list[int], first_row: int) -> Profiler:
    """On a worker: the finished profiler of row groups `groups` of the Parquet file."""
    with scan_memory_pool(), reading() as guard:
        parquet = pq.ParquetFile(path, pre_buffer=False)
        check_width(len(parquet.schema_arrow))
        guard.check_rows(parquet.metadata.num_rows)
        profiler = Profiler(None, parquet.schema_arrow, first_row=first_row)
        for group in groups:
            for batch in row_group_batches(
                parquet, group, max_rows=65_536, max_bytes=PARQUET_BATCH_BYTES
            ):
                guard.check()
                profiler.add(batch)
        return profiler.finish()


def profile_merge(parts: list[Profiler]) -> DatasetProfile:
    """On a worker: the profilers of consecutive parts, added up, as the file's profile."""
    whole = parts[0]
    for part in parts[1:]:
        whole.merge(part)
    return whole.result(SourceInfo(format=PARQUET, columns=list(whole.schema.names)))
