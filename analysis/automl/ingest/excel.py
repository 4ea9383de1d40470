"""Excel .xlsx workbooks: one sheet, streamed row by row into CSV text, then read as CSV.

openpyxl's read-only mode keeps one row in memory at a time; the workbook's zip is checked
for a bomb before openpyxl opens it.
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

from ..errors import DataFileError
from .archives import refuse_bomb
from .csv_reader import scan_written_csv
from .source import XLSX, IngestOptions, first_line, scratch_dir

# More than this, uncompressed, is refused: such a sheet belongs in a CSV or Parquet file.
XLSX_MAX_UNCOMPRESSED = 4 << 30


def scan_xlsx(path: Path, options: IngestOptions, visitor_factory):
    """Feed every row of the chosen sheet of the workbook at `path` to one visitor.

    Returns what detection found (format ``xlsx`` and the sheet's title) and the visitor.
    """
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            refuse_bomb(archive.infolist(), limit=XLSX_MAX_UNCOMPRESSED)
        book = load_workbook(path, read_only=True, data_only=True)
    except (DataFileError, RecursionError, MemoryError):
        raise
    except Exception as exc:  # openpyxl raises many types on damaged workbooks
        raise DataFileError(
            f"The Excel workbook could not be opened ({first_line(exc)}): open and save it "
            "again in Excel, or save the sheet as CSV."
        ) from exc
    try:
        sheet = _choose_sheet(book, options.sheet)
        with tempfile.NamedTemporaryFile(
            "w", suffix=".csv", delete=False, encoding="utf-8", newline="", dir=scratch_dir(path)
        ) as handle:
            scratch = Path(handle.name)
            writer = csv.writer(handle)
            try:
                for row in sheet.iter_rows(values_only=True):
                    if row and any(v is not None and v != "" for v in row):
                        writer.writerow([_cell_text(v) for v in row])
            except (RecursionError, MemoryError):
                raise
            except Exception as exc:  # a damaged sheet: any openpyxl/XML error
                raise DataFileError(
                    f"The sheet {sheet.title!r} could not be read ({first_line(exc)}): save "
                    "it as CSV and upload that."
                ) from exc
    finally:
        book.close()
    try:
        if scratch.stat().st_size == 0:
            raise DataFileError(f"The sheet {sheet.title!r} is empty: choose another sheet.")
        text_options = replace(options, delimiter=",", encoding="utf-8", decimal=".")
        info, visitor = scan_written_csv(scratch, text_options, visitor_factory)
    finally:
        scratch.unlink(missing_ok=True)
    info.format, info.sheet, info.compression = XLSX, sheet.title, None
    info.delimiter = info.encoding = None
    return info, visitor


def _choose_sheet(book, wanted: str | None):
    if not wanted:
        return book.worksheets[0]
    if wanted in book.sheetnames:
        return book[wanted]
    if str(wanted).isdigit() and 1 <= int(wanted) <= len(book.sheetnames):
        return book.worksheets[int(wanted) - 1]
    raise DataFileError(
        f"The workbook has no sheet {wanted!r}; its sheets are: {', '.join(book.sheetnames)}."
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
