"""Draw a seeded, reproducible sample of a large table with Dask, in bounded memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
import pandas as pd

from .errors import ProblemError
from .ingest import read_table

RANDOM = "random"
_KEY = "__promise_sample_key"


@dataclass(frozen=True)
class SampleResult:
    """What a sample holds: its rows, out of the rows of the file and those with a target."""

    strategy: str
    sample_rows: int
    total_rows: int
    usable_rows: int

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.usable_rows


def sample_table(
    path: str | Path,
    *,
    target: str,
    max_rows: int | None,
    seed: int,
    strategy: str = RANDOM,
) -> tuple[pd.DataFrame, SampleResult]:
    """Return up to `max_rows` rows with a known target, drawn uniformly at random.

    Rows whose target is missing cannot be learned from and are left out. Each
    partition gets its own seeded random key and the rows with the smallest keys
    are kept, so the draw is exact, uniform and the same for the same seed, while
    memory stays bounded by the sample size rather than the file size.
    """
    if strategy != RANDOM:
        raise ProblemError(f"The sampling strategy {strategy!r} is not available yet; use random.")
    ddf = read_table(path)
    if target not in ddf.columns:
        raise ProblemError(f"The target column {target!r} is not in the file.")
    labelled = ddf[~ddf[target].isna()]
    keyed = labelled.map_partitions(_with_random_key, seed=seed, meta=_meta_with_key(labelled))
    drawn = keyed if max_rows is None else keyed.nsmallest(max_rows, _KEY)
    # One pass over the file computes the counts and the sample together.
    total_rows, usable_rows, frame = dask.compute(
        ddf.map_partitions(len).sum(), labelled.map_partitions(len).sum(), drawn
    )
    frame = frame.sort_values(_KEY, kind="stable").drop(columns=_KEY).reset_index(drop=True)
    result = SampleResult(
        strategy=strategy,
        sample_rows=len(frame),
        total_rows=int(total_rows),
        usable_rows=int(usable_rows),
    )
    return frame, result


def _meta_with_key(ddf) -> pd.DataFrame:
    meta = ddf._meta.copy()
    meta[_KEY] = np.array([], dtype="float64")
    return meta


def _with_random_key(frame: pd.DataFrame, seed: int, partition_info=None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    rng = np.random.default_rng([seed, number])
    return frame.assign(**{_KEY: rng.random(len(frame))})
