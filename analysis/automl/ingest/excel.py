"""Excel .xlsx workbooks: one sheet, streamed row by row into CSV text, then read as CSV.

openpyxl's read-only mode keeps one row in memory at a time. The workbook's zip is checked
for a bomb before openpyxl opens it (from the sizes it declares), and the sheet's XML is
counted as openpyxl reads it, like the rows and columns it yields and the clock.
"""

from __future__ import annotations

import csv
import io
import re
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
    guard = current_guard()
    after = guard.limits.ratio_after_bytes // XLSX_RATIO_SHARE
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            refuse_bomb(members, guard, what="workbook", limit=guard.limits.xlsx_bytes, after=after)
        book = _open_workbook(path, {m.filename: m.compress_size for m in members}, guard)
    except (DataFileError, ReadAbandoned, RecursionError, MemoryError):
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


def _open_workbook(path: Path, compressed: dict[str, int], guard: Guard):
    """The workbook at `path`, opened read-only by openpyxl, every member it reads metered.

    openpyxl reads members through its ZipFile's `open`; that one instance's `open` is
    wrapped before anything is read (nothing else of openpyxl is changed), so the XML of
    every member counts against the limits as it is read, and the clock is looked at.

    Opening a sheet, openpyxl looks for its size (``<dimension>``) before the rows; a
    sheet without one is parsed to its end for it, keeping an empty element per row,
    which holds gigabytes for a large sheet before its first row is read. That first
    look gets the sheet's beginning only, up to where its rows start: the answer is the
    same (the size, or none), and the rows are read once, as they are streamed.
    """
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(str(path), read_only=True, data_only=True)
    opened = reader.archive.open
    probing = True

    def metered_open(name, *args, **kwargs):
        member = getattr(name, "filename", name)
        stream = MeteredStream(
            opened(name, *args, **kwargs),
            guard,
            what="workbook",
            limit=guard.limits.xlsx_bytes,
            compressed_size=compressed.get(member),
            ratio_after=guard.limits.ratio_after_bytes // XLSX_RATIO_SHARE,
        )
        if probing and member.startswith("xl/worksheets/"):
            return _sheet_head(stream)
        return stream

    reader.archive.open = metered_open
    try:
        reader.read()
    except BaseException:
        reader.archive.close()
        raise
    probing = False
    return reader.wb


_ROWS_START = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")
_HEAD_BYTES = 1 << 20


def _sheet_head(stream):
    """The sheet's XML up to where its rows start, closed as a document with no rows (the
    whole sheet, as it streams, if they do not start within its first megabyte)."""
    head = b""
    while len(head) < _HEAD_BYTES:
        chunk = stream.read(65536)
        if not chunk:
            break
        head += chunk
        if match := _ROWS_START.search(head):
            stream.close()
            prefix = match.group(0)[1 : -len(b"sheetData")]
            closing = b"</" + prefix + b"worksheet>"
            return io.BytesIO(head[: match.start()] + b"<" + prefix + b"sheetData/>" + closing)
    return _Prefixed(head, stream)


class _Prefixed(io.RawIOBase):
    """`head`, then the rest of `stream`."""

    def __init__(self, head: bytes, stream):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data, self.head = self.head[: len(buffer)], self.head[len(buffer) :]
        if not data:
            data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.stream.close()
        super().close()


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
