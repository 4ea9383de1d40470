"""Profile a table in one streaming pass: row count, and per column its kind and statistics.

The pass (`ingest.normalize_table`) reads the file once with pyarrow's streaming readers
and writes the Parquet copy that sampling reads later; `_Profiler` sees each record
batch on the way and keeps, in memory that does not grow with the file:

- exact counts: rows, missing values, min, max, and mean/std merged batch by batch
  (Chan's parallel variance), and the value counts of every column until it has more
  than `EXACT_COUNTS_MAX` distinct values;
- distinct counts: exact up to `SKETCH_SIZE` values, estimated above that with a
  k-minimum-values sketch of 64-bit hashes (standard error about 1/sqrt(k), ~1%);
- duplicate rows: the same sketch over a hash of each whole row;
- a uniform random sample of `SAMPLE_ROWS` rows (seeded), for what needs the values
  themselves: kinds (dates, words), quantiles, histograms and quality findings.

Column kinds and the profile's types are in `kinds.py`; quality findings are worded in
`quality.py`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cluster import on_cluster
from .errors import DataFileError
from .ingest import IngestOptions, SourceInfo, Visitor, normalize_table
from .kinds import EMPTY, ColumnProfile, DatasetProfile, column_kind
from .quality import profile_findings

PREVIEW_ROWS = 50
SAMPLE_ROWS = 20_000
# The readers hand over batches of about 1 MB; the profiler merges them to about this
# size first, so its per-batch work (a few dozen kernel calls per column) runs less often.
MERGE_BYTES = 8 << 20
SKETCH_SIZE = 4096
EXACT_COUNTS_MAX = 10_000
TOP_VALUES = 10
HISTOGRAM_BINS = 20
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@on_cluster
def profile_table(path: str | Path, *, options: IngestOptions | None = None) -> DatasetProfile:
    """Read the table at `path` once and describe it; raises DataFileError when unreadable.

    The same pass leaves the normalised Parquet copy that `sample_table` reads.
    """
    _copy, info, profiler = normalize_table(path, options=options, visitor_factory=_Profiler)
    if not info.columns:
        raise DataFileError("The file has no columns: upload a table with a header row.")
    if profiler is None or profiler.rows == 0:
        raise DataFileError(
            "The file has a header but no data rows: upload the file with its data, or "
            "choose the right header row."
        )
    return profiler.result(info)


class _Profiler(Visitor):
    def __init__(self, info: SourceInfo, schema: pa.Schema):
        self.schema = schema
        self.rows = 0
        self.columns = [_ColumnStats(f.name, f.type) for f in schema]
        self.row_sketch = _Sketch()
        self.rng = np.random.default_rng(0)
        self.sample: list[pa.RecordBatch] = []
        self.sample_keys: list[np.ndarray] = []
        self.sample_size = 0
        self.threshold = 1.0
        self.preview: list[pa.RecordBatch] = []
        self.preview_rows = 0
        self.pending: list[pa.RecordBatch] = []
        self.pending_bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self.rows += batch.num_rows
        self.pending.append(batch)
        self.pending_bytes += batch.nbytes
        if self.pending_bytes >= MERGE_BYTES:
            self._flush()

    def abandon(self) -> None:
        self.pending, self.sample, self.preview = [], [], []

    def _flush(self) -> None:
        if not self.pending:
            return
        batch = self.pending[0] if len(self.pending) == 1 else pa.concat_batches(self.pending)
        self.pending, self.pending_bytes = [], 0
        n = batch.num_rows
        if self.preview_rows < PREVIEW_ROWS:
            # A copy (take), so the preview does not hold on to the whole first batch.
            head = batch.take(pa.array(np.arange(min(n, PREVIEW_ROWS - self.preview_rows))))
            self.preview.append(head)
            self.preview_rows += head.num_rows
        row_hash = np.zeros(n, dtype=np.uint64)
        for stats, array in zip(self.columns, batch.columns, strict=True):
            # Each column's hashes are already mixed; one multiply-xor per column chains
            # them and one final mix spreads the result.
            row_hash *= np.uint64(0x100000001B3)
            row_hash ^= stats.add(array)
        self.row_sketch.add(_mix(row_hash, copy=False))
        self._keep_sample(batch)

    def _keep_sample(self, batch: pa.RecordBatch) -> None:
        keys = self.rng.random(batch.num_rows)
        chosen = np.flatnonzero(keys < self.threshold)
        if not len(chosen):
            return
        self.sample.append(batch.take(pa.array(chosen)))
        self.sample_keys.append(keys[chosen])
        self.sample_size += len(chosen)
        if self.sample_size > 2 * SAMPLE_ROWS:
            self._compact()

    def _compact(self) -> None:
        keys = np.concatenate(self.sample_keys)
        table = pa.Table.from_batches(self.sample, schema=self.schema)
        if len(keys) > SAMPLE_ROWS:
            keep = np.argpartition(keys, SAMPLE_ROWS - 1)[:SAMPLE_ROWS]
            self.threshold = float(keys[keep].max())
        else:
            keep = np.arange(len(keys))
        keep.sort()
        self.sample = table.take(pa.array(keep)).combine_chunks().to_batches()
        self.sample_keys = [keys[keep]]
        self.sample_size = len(keep)

    def result(self, info: SourceInfo) -> DatasetProfile:
        self._flush()
        self._compact()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = pa.Table.from_batches(self.sample, schema=self.schema).to_pandas()
        columns = [stats.profile(self.rows, sample[stats.name]) for stats in self.columns]
        duplicates = max(0, self.rows - min(self.row_sketch.estimate(), self.rows))
        preview = pa.Table.from_batches(self.preview, schema=self.schema).to_pandas()
        profile = DatasetProfile(
            rows=self.rows,
            columns=columns,
            preview=[
                [_jsonable(value) for value in row]
                for row in preview.head(PREVIEW_ROWS).itertuples(index=False, name=None)
            ],
            source=info.to_dict(),
            duplicate_rows=int(duplicates),
        )
        profile.findings = profile_findings(
            profile,
            sample,
            duplicates_are_estimate=not self.row_sketch.exact,
            notes=info.notes,
        )
        return profile


class _ColumnStats:
    def __init__(self, name: str, type_: pa.DataType):
        self.name = name
        self.type = type_
        self.numeric = (pa.types.is_integer(type_) or pa.types.is_floating(type_)) and not (
            pa.types.is_boolean(type_)
        )
        self.missing = 0
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = None
        self.max = None
        self.counts: dict | None = {}
        self.sketch = _Sketch()

    def add(self, array: pa.Array) -> np.ndarray:
        """Take one batch of the column; return a 64-bit hash per row (for duplicate rows)."""
        self.missing += array.null_count
        if self.numeric or pa.types.is_timestamp(array.type):
            self._add_range(array)
        if self.counts is None and not pa.types.is_string(array.type):
            # Past exact counting, numbers are hashed as they are: no dictionary needed.
            if not array.null_count:
                hashes = _hash_values(array)
                self.sketch.add(hashes)
                return hashes
            hashes = _hash_values(array.fill_null(0))
            valid = array.is_valid().to_numpy(zero_copy_only=False)
            self.sketch.add(hashes[valid])
            hashes[~valid] = _NULL_HASH
            return hashes
        encoded = pc.dictionary_encode(array)
        indices = encoded.indices.fill_null(-1).to_numpy()
        dictionary = encoded.dictionary
        value_hashes = _hash_values(dictionary)
        self.sketch.add(value_hashes)
        if self.counts is not None and len(dictionary) > EXACT_COUNTS_MAX:
            self.counts = None
        if self.counts is not None:
            tally = np.bincount(indices[indices >= 0], minlength=len(dictionary))
            for value, n in zip(dictionary.to_pylist(), tally.tolist(), strict=True):
                self.counts[value] = self.counts.get(value, 0) + n
            if len(self.counts) > EXACT_COUNTS_MAX:
                self.counts = None
        with_null = np.append(value_hashes, _NULL_HASH)
        return with_null[indices]

    def _add_range(self, array: pa.Array) -> None:
        present = len(array) - array.null_count
        if not present:
            return
        low, high = pc.min_max(array).values()
        self.min = low.as_py() if self.min is None else min(self.min, low.as_py())
        self.max = high.as_py() if self.max is None else max(self.max, high.as_py())
        if not self.numeric:
            return
        values = array.cast(pa.float64())
        mean = pc.mean(values).as_py()
        m2 = (pc.variance(values, ddof=0).as_py() or 0.0) * present
        total = self.count + present
        delta = mean - self.mean
        self.mean += delta * present / total
        self.m2 += m2 + delta * delta * self.count * present / total
        self.count = total

    def profile(self, rows: int, sample: pd.Series) -> ColumnProfile:
        present = rows - self.missing
        exact = self.counts is not None
        distinct = len(self.counts) - (None in self.counts) if exact else self.sketch.estimate()
        distinct = int(min(distinct, present))
        column = ColumnProfile(
            name=self.name,
            kind=EMPTY,
            dtype=_dtype_name(self.type),
            missing=int(self.missing),
            distinct=distinct,
            distinct_is_estimate=not exact and not self.sketch.exact,
            integer=pa.types.is_integer(self.type),
        )
        values = sample.dropna()
        if self.numeric and present:
            column.min, column.max = _num(self.min), _num(self.max)
            column.mean = _num(self.mean)
            std = math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0
            column.std = _num(std)
            column.integer = column.integer or bool(
                len(values) and (values.astype("float64") % 1 == 0).all()
            )
            _describe_numbers(column, values.astype("float64"))
        elif pa.types.is_timestamp(self.type) and present:
            column.earliest, column.latest = str(self.min), str(self.max)
        if exact:
            top = sorted(
                ((v, n) for v, n in self.counts.items() if v is not None),
                key=lambda item: (-item[1], str(item[0])),
            )[:TOP_VALUES]
        else:
            top = list(values.astype(str).value_counts().head(TOP_VALUES).items())
        column.top_values = [[str(value), int(n)] for value, n in top]
        column.kind = column_kind(self.type, values, rows=rows, present=present, distinct=distinct)
        return column


def _describe_numbers(column: ColumnProfile, values: pd.Series) -> None:
    if values.empty:
        return
    finite = values[np.isfinite(values)]
    if finite.empty:
        return
    found = finite.quantile(list(QUANTILES)).tolist()
    column.quantiles = {
        f"p{q * 100:02.0f}": float(v) for q, v in zip(QUANTILES, found, strict=True)
    }
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    column.histogram = [
        [float(edges[i]), float(edges[i + 1]), int(counts[i])] for i in range(len(counts))
    ]


_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


class _Sketch:
    """K-minimum-values distinct counter: exact below `SKETCH_SIZE` values, ~1% error above.

    New hashes wait in `pending` and are merged (sorted, de-duplicated, cut to the
    smallest `SKETCH_SIZE`) once there are as many as the sketch holds, so the sort runs
    now and then rather than on every batch. Once full, only hashes under the largest
    kept one can matter, and most are dropped on arrival.
    """

    def __init__(self):
        self.values = np.empty(0, dtype=np.uint64)
        self.full = False
        self.pending: list[np.ndarray] = []
        self.pending_size = 0

    def add(self, hashes: np.ndarray) -> None:
        if self.full:
            hashes = hashes[hashes < self.values[-1]]
        if not len(hashes):
            return
        self.pending.append(hashes)
        self.pending_size += len(hashes)
        if self.pending_size >= SKETCH_SIZE:
            self._merge()

    def _merge(self) -> None:
        if not self.pending:
            return
        merged = np.concatenate([self.values, *self.pending])
        self.pending, self.pending_size = [], 0
        if len(merged) > 4 * SKETCH_SIZE:
            # Only values up to the (2·SKETCH_SIZE)-th smallest can be among the smallest
            # distinct ones, unless repeats leave fewer than SKETCH_SIZE of them: a linear
            # partition first spares sorting them all.
            cut = np.partition(merged, 2 * SKETCH_SIZE)[2 * SKETCH_SIZE]
            smallest = np.unique(merged[merged <= cut])
            merged = smallest if len(smallest) >= SKETCH_SIZE else np.unique(merged)
        else:
            merged = np.unique(merged)
        if len(merged) >= SKETCH_SIZE:
            merged, self.full = merged[:SKETCH_SIZE], True
        self.values = merged

    @property
    def exact(self) -> bool:
        self._merge()
        return not self.full

    def estimate(self) -> int:
        self._merge()
        if not self.full:
            return len(self.values)
        return int((SKETCH_SIZE - 1) / (float(self.values[-1]) / 2.0**64))


def _hash_values(dictionary: pa.Array) -> np.ndarray:
    if not len(dictionary):
        return np.empty(0, dtype=np.uint64)
    type_ = dictionary.type
    if pa.types.is_floating(type_):
        return _mix(dictionary.cast(pa.float64()).to_numpy().view(np.uint64))
    if pa.types.is_integer(type_) or pa.types.is_timestamp(type_):
        return _mix(dictionary.cast(pa.int64()).to_numpy().view(np.uint64))
    if pa.types.is_boolean(type_):
        return _mix(dictionary.cast(pa.uint64()).to_numpy())
    values = np.asarray(dictionary.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    return pd.util.hash_array(values, categorize=False)


def _mix(x: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """SplitMix64's finaliser: spreads any 64-bit values evenly over the hash space.

    With `copy=False` a uint64 array is mixed in place.
    """
    x = x.astype(np.uint64, copy=copy)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _dtype_name(type_: pa.DataType) -> str:
    if pa.types.is_integer(type_) or pa.types.is_floating(type_):
        # Sampling hands integers over as float64, so a missing value never changes them.
        return "float64"
    if pa.types.is_boolean(type_):
        return "bool"
    if pa.types.is_timestamp(type_):
        return "datetime64"
    return "object"


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _jsonable(value):
    if value is None or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if not isinstance(value, (int, float, str, bool, type(None))):
        value = str(value)
    return value
