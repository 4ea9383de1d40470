"""Open an uploaded table lazily with Dask, never loading it whole."""

from __future__ import annotations

from pathlib import Path

import dask.dataframe as dd
import pandas as pd

from .errors import DataFileError

BLOCKSIZE = "64MB"


def read_table(path: str | Path) -> dd.DataFrame:
    """Return a lazy Dask DataFrame over the CSV or Parquet file at `path`.

    CSV column types are inferred from the first block; a column whose type changes
    further down is read as text everywhere, so one odd value never fails the pass.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise DataFileError("The file is empty: upload a table with a header row and data rows.")
    if _is_parquet(path):
        return dd.read_parquet(path)
    if _looks_binary(path):
        raise DataFileError(
            "The file holds binary data (an image, archive or program?), not a text table: "
            "upload a CSV or Parquet file."
        )
    try:
        head = pd.read_csv(path, nrows=1000, sep=None, engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataFileError(f"The file could not be read as CSV: {_first_line(exc)}") from exc
    if head.empty and len(head.columns) == 0:
        raise DataFileError("The file has no columns: upload a table with a header row.")
    sep = _sniffed_separator(path)
    dtypes = {col: _dtype_for(head[col]) for col in head.columns}
    return dd.read_csv(path, sep=sep, blocksize=BLOCKSIZE, dtype=dtypes, assume_missing=True)


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _looks_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(8192)
    controls = sum(byte < 9 or 13 < byte < 32 for byte in head)
    return b"\x00" in head or controls > len(head) * 0.05


def _sniffed_separator(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _dtype_for(column: pd.Series) -> str:
    # Floats for every number, so a missing value further down never breaks the type;
    # text stays text.
    if pd.api.types.is_bool_dtype(column):
        return "object"
    if pd.api.types.is_numeric_dtype(column):
        return "float64"
    return "object"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
