"""What the profile keeps of each column, in memory that does not grow with the file.

Every statistic here merges exactly, whatever the order of the rows or of the parts
they come in (so that a file profiled in parts gives the profile of one pass): counts,
missing values, min and max add up or compare; the value counts are added until they
hold more than `EXACT_COUNTS_MAX` values; the distinct counts are k-minimum-values
sketches (the k smallest distinct 64-bit hashes, a set); mean and spread come from exact
sums (`profile_sums`). Quantiles, histograms and the kinds are read from the profile's
sample once it is complete.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .kinds import EMPTY, ColumnProfile, column_kind
from .profile_sums import Moments

SKETCH_SIZE = 4096
EXACT_COUNTS_MAX = 10_000
TOP_VALUES = 10
HISTOGRAM_BINS = 20
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class ColumnStats:
    def __init__(self, name: str, type_: pa.DataType):
        self.name = name
        self.type = type_
        self.numeric = (pa.types.is_integer(type_) or pa.types.is_floating(type_)) and not (
            pa.types.is_boolean(type_)
        )
        self.missing = 0
        self.moments = Moments()
        self.min = None
        self.max = None
        self.counts: dict | None = {}
        self.sketch = Sketch()

    def add(self, array: pa.Array) -> np.ndarray:
        """Take one batch of the column; return a 64-bit hash per row (for duplicate rows)."""
        self.missing += array.null_count
        if self.numeric or pa.types.is_timestamp(array.type):
            self._add_range(array)
        if self.counts is None and not pa.types.is_string(array.type):
            # Past exact counting, numbers are hashed as they are: no dictionary needed.
            if not array.null_count:
                hashes = hash_values(array)
                self.sketch.add(hashes)
                return hashes
            hashes = hash_values(array.fill_null(0))
            valid = array.is_valid().to_numpy(zero_copy_only=False)
            self.sketch.add(hashes[valid])
            hashes[~valid] = NULL_HASH
            return hashes
        encoded = pc.dictionary_encode(array)
        indices = encoded.indices.fill_null(-1).to_numpy()
        dictionary = encoded.dictionary
        value_hashes = hash_values(dictionary)
        self.sketch.add(value_hashes)
        if self.counts is not None and len(dictionary) > EXACT_COUNTS_MAX:
            self.counts = None
        if self.counts is not None:
            tally = np.bincount(indices[indices >= 0], minlength=len(dictionary))
            for value, n in zip(dictionary.to_pylist(), tally.tolist(), strict=True):
                self.counts[value] = self.counts.get(value, 0) + n
            if len(self.counts) > EXACT_COUNTS_MAX:
                self.counts = None
        with_null = np.append(value_hashes, NULL_HASH)
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
        if array.null_count:
            values = pc.drop_null(values)
        self.moments.add(values.to_numpy(zero_copy_only=False))

    def merge(self, other: ColumnStats) -> None:
        """Add what `other` saw of the same column (in rows after this one's)."""
        self.missing += other.missing
        self.moments.merge(other.moments)
        for ends, pick in (("min", min), ("max", max)):
            mine, theirs = getattr(self, ends), getattr(other, ends)
            setattr(
                self,
                ends,
                theirs if mine is None else mine if theirs is None else pick(mine, theirs),
            )
        if self.counts is not None and other.counts is not None:
            for value, n in other.counts.items():
                self.counts[value] = self.counts.get(value, 0) + n
            if len(self.counts) > EXACT_COUNTS_MAX:
                self.counts = None
        else:
            self.counts = None
        self.sketch.merge(other.sketch)

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
            column.mean = _num(self.moments.mean())
            column.std = _num(self.moments.std())
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


NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


class Sketch:
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

    def merge(self, other: Sketch) -> None:
        """Take in the hashes `other` saw: the k smallest of both sets are those of the union."""
        other._merge()
        self.pending.append(other.values)
        self.pending_size += len(other.values)
        self._merge()

    @property
    def exact(self) -> bool:
        self._merge()
        return not self.full

    def estimate(self) -> int:
        self._merge()
        if not self.full:
            return len(self.values)
        return int((SKETCH_SIZE - 1) / (float(self.values[-1]) / 2.0**64))


def hash_values(dictionary: pa.Array) -> np.ndarray:
    if not len(dictionary):
        return np.empty(0, dtype=np.uint64)
    type_ = dictionary.type
    if pa.types.is_floating(type_):
        return mix(dictionary.cast(pa.float64()).to_numpy().view(np.uint64))
    if pa.types.is_integer(type_) or pa.types.is_timestamp(type_):
        return mix(dictionary.cast(pa.int64()).to_numpy().view(np.uint64))
    if pa.types.is_boolean(type_):
        return mix(dictionary.cast(pa.uint64()).to_numpy())
    values = np.asarray(dictionary.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    return pd.util.hash_array(values, categorize=False)


def mix(x: np.ndarray, *, copy: bool = True) -> np.ndarray:
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
