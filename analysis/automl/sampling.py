"""Draw a seeded, reproducible sample of a large table with Dask, in bounded memory.

Three strategies, each exact in size and the same for the same seed:

- random: every row with a target has the same chance. Each row group gets its own
  seeded random keys and the rows with the smallest keys are kept. This one reads the
  Parquet copy with pyarrow directly, batch by batch, and turns only the kept rows into
  pandas: most of the cost of a Dask pass is converting every row.
- stratified: every class keeps its share of rows, to within one row, and every class
  keeps at least one row. A first pass counts the classes; the second keeps, per class,
  the rows with the smallest keys (over-drawn by a margin, then cut to the quota).
- time_based: the most recent rows by a time column, returned oldest first, so the
  holdout can be the latest part of the sample.

Memory is bounded by the sample size, never by the file size: the normalised Parquet
copy (see the ingest package) is read batch by batch, or partition by partition with Dask.

Every sampled row keeps its place in the file, counted from 0 over the Parquet copy, in
the column ROW_NUMBER. It is no feature (features come from the profile, which never
has it); it is what lets a later pass over the whole file (confirm.py) leave out the
rows a run trained on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .cluster import on_cluster
from .errors import ProblemError
from .ingest import (
    IngestOptions,
    parquet_path,
    read_table,
    row_group_batches,
    scan_memory_pool,
)

# Batches of the random draw: pieces of a row group of at most about this many bytes
# and rows. Smaller pieces decode in less memory (65,536 rows: 30 MB less than whole
# row groups of the normalised copy); the keys are the same whatever the size.
BATCH_BYTES = 8 << 20
BATCH_ROWS = 65_536

RANDOM = "random"
STRATIFIED = "stratified"
TIME_BASED = "time_based"
STRATEGIES = (RANDOM, STRATIFIED, TIME_BASED)
_KEY = "__promise_sample_key"
# Reserved: the row's position in the Parquet copy of the file.
ROW_NUMBER = "__promise_row__"


@dataclass(frozen=True)
class SampleResult:
    """What a sample holds: its rows, out of the rows of the file and those with a target."""

    strategy: str
    sample_rows: int
    total_rows: int
    usable_rows: int
    time_column: str | None = None

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.usable_rows


@on_cluster
def sample_table(
    path: str | Path,
    *,
    target: str,
    max_rows: int | None,
    seed: int,
    strategy: str = RANDOM,
    time_column: str | None = None,
    options: IngestOptions | None = None,
) -> tuple[pd.DataFrame, SampleResult]:
    """Return up to `max_rows` rows with a known target, drawn by `strategy`.

    Rows whose target is missing cannot be learned from and are left out. The rows come
    from the Parquet copy that profiling wrote (made now if missing), read with `options`.
    """
    if strategy not in STRATEGIES:
        raise ProblemError(f"Unknown sampling strategy {strategy!r}; use {', '.join(STRATEGIES)}.")
    ddf = read_table(path, options=options)
    if target not in ddf.columns:
        raise ProblemError(f"The target column {target!r} is not in the file.")
    if ROW_NUMBER in ddf.columns:
        raise ProblemError(
            f"The column name {ROW_NUMBER!r} is reserved by PROMISE; rename that column "
            "and upload the file again."
        )
    if strategy == RANDOM and max_rows is not None:
        frame, total_rows, usable_rows = _random_sample(
            parquet_path(path, options=options),
            target=target,
            max_rows=max_rows,
            seed=seed,
            dtypes=ddf.dtypes.to_dict(),
        )
        result = SampleResult(RANDOM, len(frame), total_rows, usable_rows)
        return frame, result
    ddf = _with_row_numbers(ddf, parquet_path(path, options=options))
    labelled = ddf[~ddf[target].isna()]
    quotas = None
    if strategy == TIME_BASED:
        if time_column not in ddf.columns:
            raise ProblemError(
                f"Time-based sampling needs a time column; {time_column!r} is not in the file."
            )
        keyed = labelled.map_partitions(
            _with_time_key, column=time_column, meta=_meta_with_key(labelled)
        )
        drawn = keyed[~keyed[_KEY].isna()]
        drawn = drawn if max_rows is None else drawn.nlargest(max_rows, _KEY)
    else:
        keyed = labelled.map_partitions(_with_random_key, seed=seed, meta=_meta_with_key(labelled))
        if strategy == STRATIFIED and max_rows is not None:
            drawn, quotas = _stratified(keyed, target=target, max_rows=max_rows)
        else:
            drawn = keyed
    # One pass over the file computes the counts and the sample together.
    total_rows, usable_rows, frame = dask.compute(
        ddf.map_partitions(len).sum(), labelled.map_partitions(len).sum(), drawn
    )
    if quotas is not None:
        frame = _cut_to_quotas(frame, target, quotas)
    if strategy == TIME_BASED and frame.empty:
        raise ProblemError(f"No value of {time_column!r} could be read as a date or time.")
    frame = frame.sort_values(_KEY, kind="stable").drop(columns=_KEY).reset_index(drop=True)
    result = SampleResult(
        strategy=strategy,
        sample_rows=len(frame),
        total_rows=int(total_rows),
        usable_rows=int(usable_rows),
        time_column=time_column if strategy == TIME_BASED else None,
    )
    return frame, result


def _random_sample(
    source: Path, *, target: str, max_rows: int, seed: int, dtypes: dict
) -> tuple[pd.DataFrame, int, int]:
    """The `max_rows` labelled rows with the smallest seeded keys; also rows and labelled rows.

    Returns the rows in key order, with the column types `read_table` gives (`dtypes`),
    and their place in the file as ROW_NUMBER.
    """
    parquet = pq.ParquetFile(source, pre_buffer=False)
    rows = parquet.metadata.num_rows
    with scan_memory_pool():
        table, keys, usable = _draw(parquet, target, max_rows, seed, _random_cut(rows, max_rows))
        if len(keys) < min(max_rows, usable):
            # The cut kept too few rows (many targets missing, or a rare unlucky draw): the
            # same draw without it, which is the same sample, only slower.
            table, keys, usable = _draw(parquet, target, max_rows, seed, 1.0)
        # One copy of the kept rows, already in key order.
        order = np.argsort(keys, kind="stable")[:max_rows]
        frame = table.take(pa.array(order)).to_pandas(self_destruct=True, split_blocks=True)
    return frame.astype(dtypes).reset_index(drop=True), rows, usable


def _draw(parquet: pq.ParquetFile, target: str, max_rows: int, seed: int, cut: float):
    """Pass over the file keeping the labelled rows whose keys are under `cut`.

    The labelled rows of row group `n` take their keys, in order, from
    `default_rng([seed, n])`, as Dask's partition `n` does. When more than twice
    `max_rows` rows pass, only the `max_rows` with the smallest keys are held on to.
    Returns the kept rows (in chunks, with ROW_NUMBER), their keys and the number of
    labelled rows.
    """
    kept: list[pa.Table] = []
    kept_keys: list[np.ndarray] = []
    held = usable = 0
    first = 0  # the file's row number of the batch's first row
    for group in range(parquet.metadata.num_row_groups):
        rng = np.random.default_rng([seed, group])
        for batch in row_group_batches(parquet, group, max_rows=BATCH_ROWS, max_bytes=BATCH_BYTES):
            missing = pc.is_null(batch.column(target), nan_is_null=True)
            labelled = np.flatnonzero(~missing.to_numpy(zero_copy_only=False))
            usable += len(labelled)
            # Consecutive draws continue one stream: the keys do not depend on batch size.
            keys = rng.random(len(labelled))
            chosen = keys < cut
            offset, first = first, first + batch.num_rows
            if not chosen.any():
                continue
            rows = labelled[chosen]
            table = pa.Table.from_batches([batch.take(pa.array(rows))])
            kept.append(table.append_column(ROW_NUMBER, pa.array(rows + offset, pa.int64())))
            kept_keys.append(keys[chosen])
            held += int(chosen.sum())
            if held > 2 * max_rows:
                kept, kept_keys = _smallest(kept, kept_keys, max_rows)
                held = len(kept_keys[0])
    if not kept:
        schema = parquet.schema_arrow.append(pa.field(ROW_NUMBER, pa.int64()))
        return schema.empty_table(), np.empty(0), usable
    return pa.concat_tables(kept), np.concatenate(kept_keys), usable


def _smallest(tables: list[pa.Table], keys: list[np.ndarray], count: int):
    table = pa.concat_tables(tables)
    keys = np.concatenate(keys)
    if len(keys) > count:
        keep = np.sort(np.argpartition(keys, count - 1)[:count]) if count else np.empty(0, int)
        table, keys = table.take(pa.array(keep)), keys[keep]
    return [table], [keys]


def _random_cut(rows: int, max_rows: int) -> float:
    """A key below which the `max_rows` smallest keys of `rows` uniform keys lie, with margin.

    Keys are uniform on [0, 1), so about rows·cut rows pass; the margin (10% plus 1,000
    rows) is dozens of standard deviations wide. Each batch then hands on only the rows
    under the cut, which keeps the work after reading small.
    """
    return min(1.0, (max_rows * 1.1 + 1000) / max(rows, 1))


def stratified_quotas(counts: pd.Series, max_rows: int) -> pd.Series:
    """Rows per class for a sample of `max_rows`: proportional, every class at least one.

    Largest-remainder rounding keeps each class within one row of its exact share.
    """
    counts = counts[counts > 0].sort_index()
    total = int(counts.sum())
    if max_rows >= total:
        return counts.astype(int)
    exact = counts * max_rows / total
    quotas = np.floor(exact).astype(int).clip(lower=1)
    remainder = (exact - np.floor(exact)).sort_values(ascending=False, kind="stable")
    for label in remainder.index:
        if quotas.sum() >= max_rows:
            break
        if quotas[label] < counts[label]:
            quotas[label] += 1
    return quotas


def _stratified(keyed, *, target: str, max_rows: int):
    """Pass one counts the classes; returns pass two (lazy) and the rows per class."""
    counts = keyed[target].value_counts().compute()
    quotas = stratified_quotas(counts, max_rows)
    # Keys are uniform on [0, 1): keeping keys below a class's threshold over-draws it by
    # 20% plus 30 rows, then the exact quota is cut. The margin is many standard deviations
    # wide, so the chance of a class coming out short is negligible (below 1e-12).
    thresholds = {
        label: min(1.0, (quota * 1.2 + 30) / counts[label]) for label, quota in quotas.items()
    }

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        limit = frame[target].map(thresholds).astype("float64").fillna(0.0)
        return frame[frame[_KEY] < limit]

    return keyed.map_partitions(keep, meta=keyed._meta), quotas


def _cut_to_quotas(frame: pd.DataFrame, target: str, quotas: pd.Series) -> pd.DataFrame:
    parts = []
    for label, quota in quotas.items():
        rows = frame[frame[target] == label]
        parts.append(rows.nsmallest(int(quota), _KEY))
    return pd.concat(parts) if parts else frame.iloc[:0]


def _meta_with_key(ddf) -> pd.DataFrame:
    meta = ddf._meta.copy()
    meta[_KEY] = np.array([], dtype="float64")
    return meta


def _with_row_numbers(ddf, parquet: Path):
    """`ddf` with ROW_NUMBER: `read_table` makes one partition per row group of `parquet`."""
    metadata = pq.read_metadata(parquet)
    sizes = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    if ddf.npartitions != len(sizes):
        raise RuntimeError(f"{ddf.npartitions} partitions for {len(sizes)} row groups")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int64")
    meta = ddf._meta.assign(**{ROW_NUMBER: np.array([], dtype="int64")})
    return ddf.map_partitions(_number_rows, starts=starts, sizes=sizes, meta=meta)


def _number_rows(frame: pd.DataFrame, starts, sizes, partition_info=None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    if len(frame) != sizes[number]:
        # Numbers that did not match the file would leave training rows in a confirmation.
        raise RuntimeError(f"Partition {number} has {len(frame)} rows, not {sizes[number]}.")
    rows = np.arange(starts[number], starts[number] + len(frame), dtype="int64")
    return frame.assign(**{ROW_NUMBER: rows})


def _with_random_key(frame: pd.DataFrame, seed: int, partition_info=None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    rng = np.random.default_rng([seed, number])
    return frame.assign(**{_KEY: rng.random(len(frame))})


def _with_time_key(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        moments = pd.to_datetime(frame[column], errors="coerce", utc=True, format="mixed")
    seconds = (moments - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return frame.assign(**{_KEY: seconds.astype("float64")})
