"""Excel .xlsx workbooks: one sheet, streamed row by row into CSV text, then read as CSV.

openpyxl's read-only mode keeps one row in memory at a time. The workbook's zip is checked
for a bomb before openpyxl opens it (from the sizes it declares), and the sheet's XML is
counted as openpyxl reads it, like the rows and columns it yields and the clock.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace
from pathlib import Path

from ..errors import DataFileError
from .archives import refuse_bomb
from .csv_reader import scan_written_csv
from .limits import EXCEL_MAX_ROWS, Guard, LimitExceeded, ReadAbandoned, current_guard
from .metered import MeteredStream
from .scratch import scratch_text
from .source import XLSX, IngestOptions, first_line

# Rows between two looks at the clock and at whether the read is still wanted.
CHECK_ROWS = 2048
# openpyxl reads a sheet's XML at 2-5 MB a second, pyarrow CSV at 50-100: a workbook's
# expansion is judged after this share of the bytes a CSV's is, which take as long to read.
XLSX_RATIO_SHARE = 16


def scan_xlsx(path: Path, options: IngestOptions, visitor_factory):
    """Feed every row of the chosen sheet of the workbook at `path` to one visitor.

    Returns what detection found (format ``xlsx`` and the sheet's title) and the visitor.
    """
    from openpyxl import load_workbook

    guard = current_guard()
    after = guard.limits.ratio_after_bytes // XLSX_RATIO_SHARE
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            refuse_bomb(members, guard, what="workbook", limit=guard.limits.xlsx_bytes, after=after)
        book = load_workbook(path, read_only=True, data_only=True)
        _meter_members(book, {m.filename: m.compress_size for m in members}, guard)
    except (DataFileError, RecursionError, MemoryError):
        raise
    except Exception as exc:  # openpyxl raises many types on damaged workbooks
        raise DataFileError(
            f"The Excel workbook could not be opened ({first_line(exc)}): open and save it "
            "again in Excel, or save the sheet as CSV."
        ) from exc
    scratch = sheet = None
    try:
        try:
            sheet = _choose_sheet(book, options.sheet)
            with scratch_text(path) as handle:
                scratch = Path(handle.name)
                _write_rows(sheet, csv.writer(handle), guard)
        except (RecursionError, MemoryError, DataFileError, ReadAbandoned):
            raise
        except Exception as exc:  # a damaged sheet: any openpyxl/XML error
            title = sheet.title if sheet is not None else options.sheet or "first"
            raise DataFileError(
                f"The sheet {title!r} could not be read ({first_line(exc)}): save "
                "it as CSV and upload that."
            ) from exc
        finally:
            book.close()
        if scratch.stat().st_size == 0:
            raise DataFileError(f"The sheet {sheet.title!r} is empty: choose another sheet.")
        text_options = replace(options, delimiter=",", encoding="utf-8", decimal=".")
        info, visitor = scan_written_csv(scratch, text_options, visitor_factory)
    finally:
        if scratch is not None:  # also when the rows stopped at a limit
            scratch.unlink(missing_ok=True)
    info.format, info.sheet, info.compression = XLSX, sheet.title, None
    info.delimiter = info.encoding = None
    return info, visitor


def _meter_members(book, compressed: dict[str, int], guard: Guard) -> None:
    """Count the XML openpyxl reads from the workbook's members (the sheet's rows) against
    the read's limits. openpyxl opens them through its ZipFile's `open` when it streams a
    read-only sheet; this instance's `open` is wrapped, nothing else is changed."""
    archive = book._archive
    opened = archive.open

    def metered_open(name, *args, **kwargs):
        stream = opened(name, *args, **kwargs)
        member = getattr(name, "filename", name)
        return MeteredStream(
            stream,
            guard,
            what="workbook",
            limit=guard.limits.xlsx_bytes,
            compressed_size=compressed.get(member),
            ratio_after=guard.limits.ratio_after_bytes // XLSX_RATIO_SHARE,
        )

    archive.open = metered_open


def _write_rows(sheet, writer, guard: Guard) -> None:
    """The sheet's rows that hold a value, as CSV, within the row and column limits."""
    max_rows = min(guard.limits.rows, EXCEL_MAX_ROWS)
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number % CHECK_ROWS == 0:
            guard.check()
        if number > max_rows:
            raise LimitExceeded(
                f"The sheet {sheet.title!r} has more than {max_rows:,} rows, "
                + (
                    "more than Excel itself allows: it was not saved by a spreadsheet."
                    if max_rows == EXCEL_MAX_ROWS
                    else "the most PROMISE reads from one file: upload a part of it."
                )
            )
        if row and any(v is not None and v != "" for v in row):
            guard.check_columns(len(row))
            writer.writerow([_cell_text(v) for v in row])


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
