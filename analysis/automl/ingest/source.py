"""What every reader shares: the user's options, what detection found, the visitor interface."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from .limits import ReadLimits, current_guard

# The default limit on columns (PROMISE_MAX_COLUMNS sets the one in force): wider tables
# are refused with a message (profiles and one-hot encodings of more columns do not fit
# the pages or the models anyway).
MAX_COLUMNS = ReadLimits.columns

CSV = "csv"
JSONL = "jsonl"
PARQUET = "parquet"
XLSX = "xlsx"


@dataclass(frozen=True)
class IngestOptions:
    """What the user can override when detection guesses wrong.

    `header_row` is the 1-based line of the header; 0 means the file has no header and
    the columns are named ``column_1``, ``column_2``, ... `sheet` is an .xlsx sheet's
    name or 1-based number. `decimal` is ``"."`` or ``","``.
    """

    delimiter: str | None = None
    encoding: str | None = None
    header_row: int = 1
    sheet: str | None = None
    decimal: str | None = None

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class SourceInfo:
    """What detection found; stored with the profile so the user sees how it was read."""

    format: str
    compression: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    sheet: str | None = None
    columns: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The 1-based line where a CSV header starts (0: no header), blank lines counted.
    header_line: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class Visitor:
    """Sees every batch of one scan. A restarted scan makes a fresh visitor."""

    def add(self, batch: pa.RecordBatch) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def abandon(self) -> None:
        """The scan restarts; release what was built so far."""


def check_width(width: int) -> None:
    """Refuse a table wider than the current read's column limit with a sentence."""
    current_guard().check_columns(width)


def read_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of the file at `path`."""
    with open(path, "rb") as handle:
        return handle.read(size)


def scratch_dir(path: Path) -> str:
    """Where a temporary rewrite of `path` goes: beside it when writable (same disk)."""
    return str(path.parent) if os.access(path.parent, os.W_OK) else tempfile.gettempdir()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text, short enough to quote to a user."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
