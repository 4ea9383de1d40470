"""The profiling pass's visitor: each record batch once, in memory that does not grow.

`Profiler` keeps, per column, the statistics of `profile_stats`; a sketch of whole-row
hashes for duplicate rows; the first `PREVIEW_ROWS` rows; and a uniform random sample of
`SAMPLE_ROWS` rows, for what needs the values themselves (kinds, quantiles, histograms,
quality findings). The sample is the rows with the smallest keys, row i's key being the
i-th draw of one seeded stream, kept in row order: so profilers of consecutive parts of
a file (`first_row` says where each starts) merge into the profiler of the whole.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from .ingest import SourceInfo, Visitor
from .kinds import DatasetProfile
from .profile_stats import ColumnStats, Sketch, mix
from .quality import profile_findings

PREVIEW_ROWS = 50
SAMPLE_ROWS = 20_000
SAMPLE_SEED = 0
# The readers hand over batches of about 1 MB; the profiler merges them to about this
# size first, so its per-batch work (a few dozen kernel calls per column) runs less often.
MERGE_BYTES = 8 << 20


class Profiler(Visitor):
    """Sees every batch of the pass, or of one part of the file starting at `first_row`."""

    def __init__(self, info: SourceInfo | None, schema: pa.Schema, *, first_row: int = 0):
        self.schema = schema
        self.rows = 0
        self.columns = [ColumnStats(f.name, f.type) for f in schema]
        self.row_sketch = Sketch()
        # Row i's sample key is the i-th draw of one seeded stream, wherever the row is
        # read: a part starting at row `first_row` skips that many draws.
        generator = np.random.PCG64(SAMPLE_SEED)
        generator.advance(first_row)
        self.rng = np.random.Generator(generator)
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
        self.row_sketch.add(mix(row_hash, copy=False))
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

    def finish(self) -> Profiler:
        """Work through what is pending; the profiler is then ready to merge or to send."""
        self._flush()
        self._compact()
        return self

    def merge(self, other: Profiler) -> None:
        """Add a finished profiler of the rows that follow this one's."""
        self.finish()
        self.rows += other.rows
        for mine, theirs in zip(self.columns, other.columns, strict=True):
            mine.merge(theirs)
        self.row_sketch.merge(other.row_sketch)
        if self.preview_rows < PREVIEW_ROWS and other.preview:
            head = pa.Table.from_batches(other.preview, schema=self.schema)
            head = head.slice(0, PREVIEW_ROWS - self.preview_rows)
            self.preview.extend(head.to_batches())
            self.preview_rows += head.num_rows
        # The smallest keys of both samples are the smallest of all; in row order, as
        # other's rows come after these.
        self.sample.extend(other.sample)
        self.sample_keys.extend(other.sample_keys)
        self.sample_size += other.sample_size
        self._compact()

    def result(self, info: SourceInfo) -> DatasetProfile:
        self.finish()
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
