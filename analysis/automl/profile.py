"""Profile a table in one streaming pass: row count, and per column its kind and statistics.

The pass (`ingest.normalize_table`) reads the file once with pyarrow's streaming readers
and writes the Parquet copy that sampling reads later; `profile_pass.Profiler` sees each
record batch on the way and keeps, in memory that does not grow with the file:

- exact counts: rows, missing values, min, max, mean and standard deviation (from exact
  sums, `profile_sums`), and the value counts of every column until it has more than
  `profile_stats.EXACT_COUNTS_MAX` distinct values;
- distinct counts: exact up to `profile_stats.SKETCH_SIZE` values, estimated above that
  with a k-minimum-values sketch of 64-bit hashes (standard error about 1/sqrt(k), ~1%);
- duplicate rows: the same sketch over a hash of each whole row;
- a uniform random sample of `profile_pass.SAMPLE_ROWS` rows (seeded), for what needs
  the values themselves: kinds (dates, words), quantiles, histograms and quality findings.

With a dask.distributed cluster named (cluster.py), a Parquet file is profiled there in
parts that run in parallel and merge into the same profile (`profile_parts`); any other
file is profiled there in one task.

Column kinds and the profile's types are in `kinds.py`; quality findings are worded in
`quality.py`.
"""

from __future__ import annotations

from pathlib import Path

from .cluster import on_cluster
from .errors import DataFileError
from .ingest import IngestOptions, normalize_table
from .kinds import DatasetProfile
from .profile_parts import profile_in_parts
from .profile_pass import Profiler

__all__ = ["DatasetProfile", "profile_table"]


@on_cluster(in_parts=profile_in_parts)
def profile_table(path: str | Path, *, options: IngestOptions | None = None) -> DatasetProfile:
    """Read the table at `path` once and describe it; raises DataFileError when unreadable.

    The same pass leaves the normalised Parquet copy that `sample_table` reads.
    """
    _copy, info, profiler = normalize_table(path, options=options, visitor_factory=Profiler)
    if not info.columns:
        raise DataFileError("The file has no columns: upload a table with a header row.")
    if profiler is None or profiler.rows == 0:
        raise DataFileError(
            "The file has a header but no data rows: upload the file with its data, or "
            "choose the right header row."
        )
    return profiler.result(info)
