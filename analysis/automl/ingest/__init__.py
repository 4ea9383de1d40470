"""Open an uploaded table, whatever its format, and stream it once in bounded memory.

How a file is read
------------------
1. **Detect** (`detect`): the format comes from the first bytes, never only from the name;
   for text, the compression (`archives`), encoding, delimiter, decimal mark and header.
2. **Stream** (`scan_table`): one reader per format hands record batches of a few MB to a
   visitor, which sees each batch once (`streaming`): `csv_reader` for delimited text,
   `jsonl` for JSON Lines, `excel` for .xlsx sheets (rewritten as CSV text, after a
   zip-bomb check in `archives`), `parquet_input` for Parquet. Column types are inferred
   from the first block; when a later value does not fit, the CSV reader works out from
   the values which columns to widen (integer → float → text) and reads again.
3. **Normalise** (`parquet_copy`): the same pass writes a Parquet copy beside the upload,
   which sampling and training then read with Dask (`read_table`).

Memory is one batch plus what the visitors keep; it does not grow with the file.
"""

from .detect import describe_source, unique_names
from .parquet_copy import (
    normalize_table,
    normalized_path,
    parquet_path,
    read_table,
    remove_normalized,
)
from .parquet_input import parquet_batches, row_group_batches
from .scan import scan_memory_pool, scan_table
from .source import CSV, JSONL, MAX_COLUMNS, PARQUET, XLSX, IngestOptions, SourceInfo, Visitor

__all__ = [
    "CSV",
    "JSONL",
    "MAX_COLUMNS",
    "PARQUET",
    "XLSX",
    "IngestOptions",
    "SourceInfo",
    "Visitor",
    "describe_source",
    "normalize_table",
    "normalized_path",
    "parquet_batches",
    "parquet_path",
    "read_table",
    "remove_normalized",
    "row_group_batches",
    "scan_memory_pool",
    "scan_table",
    "unique_names",
]
