"""Hard limits on one read of an upload, checked while it streams, never after.

A small compressed file can expand without end (a gzip of billions of identical rows, a
workbook whose sheet is mostly repeats): judged only once read, it would hold a worker for
hours and fill the disk with its Parquet copy. So every read runs under a `Guard`: the
bytes coming out of a decompressor or a workbook's member are counted as they come (and
compared with the compressed bytes they came from), the rows as batches are handed on, the
columns as a schema is known, and the clock on every read and every batch. Past a limit the
read stops with a `LimitExceeded` sentence that names the limit.

The guard also asks, at most once a second and only on the thread that started the read,
whether the read is still wanted (its dataset may have been deleted); if not, the read
stops with `ReadAbandoned`, which is not the user's mistake and is not shown to anyone.

The limits come from the caller (`guarded`); a read outside `guarded` uses the process's
default limits, which the application sets from its settings (`set_default_limits`).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import DataFileError

# Excel's own sheet size: a workbook with more rows was not written by a spreadsheet.
EXCEL_MAX_ROWS = 1_048_576
# How often, at most, the guard asks whether the read is still wanted.
WANTED_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ReadLimits:
    """What one read may take. The defaults are the settings' defaults."""

    # Bytes out of a gzip, bz2 or zip member, all passes of one read counted separately.
    decompressed_bytes: int = 50 << 30
    # Bytes out of a workbook's members: openpyxl reads 2 to 5 MB of XML a second.
    xlsx_bytes: int = 1 << 30
    # Decompressed bytes per compressed byte, judged once `ratio_after_bytes` came out:
    # CSV files compress 3 to 30 times, bombs a thousand times.
    expansion_ratio: float = 100.0
    ratio_after_bytes: int = 64 << 20
    rows: int = 2_000_000_000
    columns: int = 2000
    seconds: float = 1800.0


class LimitExceeded(DataFileError):
    """The file is past one of the read limits; the message names it."""


class ReadAbandoned(Exception):  # noqa: N818 - the name says what happened
    """The read is no longer wanted (its dataset was deleted): stop quietly."""


def _size(n: float) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.3g} {unit}"
    return f"{n:,.0f} bytes"


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:,.0f} minutes"
    return f"{seconds:,.0f} seconds"


class Guard:
    """The limits of one read, its clock, and whether it is still wanted."""

    def __init__(self, limits: ReadLimits, still_wanted: Callable[[], bool] | None = None):
        self.limits = limits
        self.started = time.monotonic()
        self.still_wanted = still_wanted
        self._next_wanted_check = self.started + WANTED_CHECK_SECONDS

    # Safe on any thread: compares numbers, raises.
    def check_clock(self) -> None:
        if time.monotonic() - self.started > self.limits.seconds:
            raise LimitExceeded(
                f"Reading the file took longer than {_duration(self.limits.seconds)}, the "
                "limit for reading one file: upload a smaller part of it, or save it as "
                "Parquet, which reads several times faster."
            )

    def check_bytes(
        self,
        out: int,
        compressed: int | None,
        *,
        what: str,
        limit: int,
        ratio_after: int | None = None,
    ) -> None:
        """`out` bytes came out of `compressed` bytes of a compressed stream (`what`); the
        ratio is judged past `ratio_after` bytes (default: the limits' ratio_after_bytes)."""
        if out > limit:
            raise LimitExceeded(
                f"The {what} expands past {_size(limit)} when decompressed (the limit is "
                f"{_size(limit)}): upload the table itself, or a smaller part of it."
            )
        ratio = self.limits.expansion_ratio
        after = self.limits.ratio_after_bytes if ratio_after is None else ratio_after
        if compressed and out > after and out > ratio * compressed:
            raise LimitExceeded(
                f"The {what} expands more than {ratio:,.0f} times when decompressed "
                f"({_size(out)} from {_size(compressed)}; the limit is {ratio:,.0f} "
                "times), which is how compression bombs look, not tables: upload the table "
                "uncompressed."
            )

    def check_rows(self, rows: int) -> None:
        if rows > self.limits.rows:
            raise LimitExceeded(
                f"The file has more than {self.limits.rows:,} rows, the most PROMISE reads "
                "from one file: upload a part or a sample of it."
            )

    def check_columns(self, columns: int, *, at_least: bool = False) -> None:
        """Refuse `columns` past the limit (`at_least`: the true count may be higher)."""
        if columns > self.limits.columns:
            more = "at least " if at_least else ""
            raise LimitExceeded(
                f"The table has {more}{columns:,} columns; PROMISE reads at most "
                f"{self.limits.columns:,}: keep the columns you need and upload it again."
            )

    # Only on the thread that started the read: `still_wanted` may ask the database.
    def check(self) -> None:
        """The clock, and now and then whether the read is still wanted."""
        self.check_clock()
        now = time.monotonic()
        if self.still_wanted is not None and now >= self._next_wanted_check:
            self._next_wanted_check = now + WANTED_CHECK_SECONDS
            if not self.still_wanted():
                raise ReadAbandoned("the read is no longer wanted")


_default = ReadLimits()
_current: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("read_guard", default=None)


def set_default_limits(limits: ReadLimits) -> None:
    """The limits of reads not made under `guarded` (set once, from the settings)."""
    global _default
    _default = limits


def default_limits() -> ReadLimits:
    return _default


@contextmanager
def guarded(
    limits: ReadLimits | None = None, *, still_wanted: Callable[[], bool] | None = None
) -> Iterator[Guard]:
    """Run every read inside the block under one guard: one clock, these limits."""
    guard = Guard(limits or _default, still_wanted)
    token = _current.set(guard)
    try:
        yield guard
    finally:
        _current.reset(token)


@contextmanager
def reading() -> Iterator[Guard]:
    """The guard of the read under way, or a new one with the default limits."""
    guard = _current.get()
    if guard is not None:
        yield guard
        return
    with guarded() as guard:
        yield guard


def current_guard() -> Guard:
    """The guard of the read under way (a fresh default one outside any read)."""
    return _current.get() or Guard(_default)
