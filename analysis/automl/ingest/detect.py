"""Detection from the content, never only from the name: format, encoding, delimiter, header.

The format comes from the first bytes: Parquet (``PAR1``), Excel .xlsx (a zip holding
``xl/workbook.xml``), a zip, gzip or bz2 archive holding a CSV or JSON Lines file, JSON
Lines (``{`` on the first line), or CSV. For text, the encoding is the byte-order mark,
else UTF-8 when the first megabyte decodes as UTF-8, else charset-normalizer's guess
(Latin-1/cp1252, ...); the delimiter is sniffed among ``, ; TAB |`` as the one that splits
the first lines into the same number of fields; decimal commas are recognised when the
delimiter is ``;``. Header names are read as pyarrow reads them (quoted names may hold
delimiters, quotes and line breaks), and kept as they are, except that blank ones become
``column_<n>`` and repeated ones get ``_2``, ``_3``, ... so every column has a unique name.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq

from ..errors import DataFileError
from ..nesting import refuse_deep_lines
from .archives import compression as detect_compression
from .archives import decompressed_head
from .limits import current_guard
from .source import CSV, JSONL, PARQUET, XLSX, IngestOptions, SourceInfo, check_width, read_head

SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls (or other Office) file",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}


def describe_source(path: str | Path, options: IngestOptions | None = None) -> SourceInfo:
    """Detect format, compression, encoding, delimiter and header without reading it all."""
    path = Path(path)
    options = options or IngestOptions()
    if is_parquet(path):
        return SourceInfo(format=PARQUET, columns=pq.read_schema(path).names)
    if is_xlsx(path):
        return SourceInfo(format=XLSX, sheet=options.sheet)
    return detect_text(path, options)


def is_parquet(path: Path) -> bool:
    """Whether the file at `path` is Parquet (by its magic bytes, whatever its name)."""
    return read_head(path, 4) == b"PAR1"


def is_xlsx(path: Path) -> bool:
    """Whether the file at `path` is an .xlsx workbook: a zip holding xl/workbook.xml."""
    if not read_head(path, 4).startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def detect_text(path: Path, options: IngestOptions) -> SourceInfo:
    """How to read a text upload (CSV or JSON Lines), from its first megabyte and `options`."""
    compression = detect_compression(path)
    raw = decompressed_head(path, compression, SNIFF_BYTES)
    if not raw.strip():
        raise DataFileError("The file is empty: upload a table with a header row and data rows.")
    _refuse_binary(raw, compression)
    encoding = options.encoding or _detect_encoding(raw)
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise DataFileError(
            f"{encoding!r} is not an encoding PROMISE knows: choose one such as utf-8, "
            "utf-16 or cp1252."
        ) from exc
    text = _decode_head(raw, codec.name)
    first = text.lstrip().split("\n", 1)[0].strip()
    if first.startswith("{"):
        # Measured before json parses it: a line nested thousands deep is refused here.
        refuse_deep_lines(first.encode(), first_line=text[: text.find("{")].count("\n") + 1)
        if _is_json_object(first):
            return SourceInfo(format=JSONL, compression=compression, encoding=codec.name)
    delimiter = options.delimiter or _sniff_delimiter(text)
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise DataFileError(
            f"The delimiter must be a single character, not {delimiter!r}: use , ; | or tab."
        )
    header_row = max(int(options.header_row), 0)
    header_line, records = _head_records(text, delimiter, skip_lines=max(header_row - 1, 0))
    if header_row and not records:
        lines = len(text.rstrip("\n").split("\n"))
        raise DataFileError(
            f"Line {header_row} was chosen as the header, but the file has only "
            f"{lines} lines: choose an earlier header row."
        )
    if header_row == 0:
        header_line = 0
        width = len(records[0]) if records else 1
        raw_names = [f"column_{i}" for i in range(1, width + 1)]
    else:
        raw_names = records[0]
    if len(raw) >= SNIFF_BYTES and len(records) < 2:
        _refuse_endless_header(len(raw_names))
    check_width(len(raw_names))
    names = unique_names(raw_names)
    renamed = {
        f"column {i}" if not str(old).strip() else str(old): new
        for i, (old, new) in enumerate(zip(raw_names, names, strict=True), start=1)
        if old != new and header_row
    }
    data = records[1:] if header_row else records
    decimal = options.decimal or _sniff_decimal(data, delimiter)
    info = SourceInfo(
        format=CSV,
        compression=compression,
        encoding=codec.name,
        delimiter=delimiter,
        decimal=decimal,
        columns=names,
        renamed=renamed,
        header_line=header_line,
    )
    if renamed:
        info.notes.append(
            "Some header names were blank or repeated and were renamed: "
            + ", ".join(f"{old!r} → {new!r}" for old, new in list(renamed.items())[:5])
            + ("…" if len(renamed) > 5 else "")
            + "."
        )
    return info


def _refuse_endless_header(seen: int) -> None:
    """The first row does not end within the sniffed megabyte: its width is unknown."""
    current_guard().check_columns(seen, at_least=True)  # too wide already: say so
    raise DataFileError(
        f"The first row is longer than {SNIFF_BYTES >> 20} MB ({seen:,} columns or more): "
        "PROMISE reads headers up to that length: shorten the header names, or choose "
        "the right delimiter."
    )


def unique_names(names: list) -> list[str]:
    """Header names as the file has them, made unique: blanks become column_<n>, repeats _2, _3.

    Other names are kept exactly, spaces and line breaks included, as pandas and pyarrow
    read them: the exported code finds its columns by these names in the user's file.
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        text = str(name if name is not None else "")
        base = text if text.strip() else f"column_{i}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _refuse_binary(raw: bytes, compression: str | None) -> None:
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            hint = (
                "save it as .xlsx or CSV"
                if "Excel" in what
                else "upload a CSV, Excel, JSON Lines or Parquet file"
            )
            raise DataFileError(f"The file holds binary data ({what}), not a text table: {hint}.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    sample = raw[:8192]
    controls = sum(byte < 9 or 13 < byte < 32 for byte in sample)
    # UTF-16 without a byte-order mark has a NUL in every other byte of ASCII text.
    if sample.count(b"\x00") > len(sample) * 0.3 and _utf16_without_bom(sample):
        return
    if b"\x00" in sample or controls > len(sample) * 0.05:
        where = " inside the archive" if compression else ""
        raise DataFileError(
            f"The file{where} holds binary data (an image, archive or program?), not a text "
            "table: upload a CSV, Excel, JSON Lines or Parquet file."
        )


def _utf16_without_bom(sample: bytes) -> bool:
    return sample[1::2].count(0) > len(sample) * 0.4 or sample[0::2].count(0) > len(sample) * 0.4


def _detect_encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if raw[:8192].count(b"\x00") > len(raw[:8192]) * 0.3:
        return "utf-16-le" if raw[1::2].count(0) > raw[0::2].count(0) else "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a character at the end of the sample is still UTF-8.
        if exc.start >= len(raw) - 4:
            return "utf-8"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw[:262_144]))
    best = matches[0] if matches else None
    for match in matches:
        # Ties are common between Western code pages; cp1252 is by far the most used.
        if match.encoding in ("cp1252", "latin_1") and (match.chaos, -match.coherence) <= (
            best.chaos + 0.001,
            -best.coherence + 0.001,
        ):
            best = match
            break
    if best is None:
        raise DataFileError(
            "The file's text encoding could not be recognised: save it as UTF-8, or choose "
            "its encoding."
        )
    return {"ascii": "utf-8"}.get(best.encoding, best.encoding)


def _decode_head(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, errors="replace")
    if len(raw) >= SNIFF_BYTES:
        # The last line may be cut; do not judge the file by it.
        text = text[: text.rfind("\n") + 1] or text
    return text.lstrip("\ufeff")


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines(keepends=True)[:200]
    sample = "".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        widths = [w for w in widths if w > 0][:100]
        if not widths or max(widths) < 2:
            continue
        common = max(set(widths), key=widths.count)
        score = (sum(w == common for w in widths) * (common > 1), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_records(text: str, delimiter: str, *, skip_lines: int) -> tuple[int, list[list[str]]]:
    """The records after `skip_lines` lines, blank ones left out, and the first one's line.

    This is how pyarrow finds a header: it skips lines (``skip_rows``), then reads the
    first record that is not blank, whose quoted fields may span several lines.
    """
    lines = io.StringIO(text)
    for _ in range(skip_lines):
        if not lines.readline():
            break  # the end of the text: no record is left after so many lines
    reader = csv.reader(lines, delimiter=delimiter)
    records, first_line = [], skip_lines + 1
    try:
        for record in reader:
            if record:
                records.append(record)
            elif not records:
                first_line = skip_lines + reader.line_num + 1
    except csv.Error:
        # Not CSV as the csv module knows it (a stray carriage return, say): plain lines.
        rest = text.split("\n")[skip_lines:]
        first_line = skip_lines + 1 + next((i for i, line in enumerate(rest) if line.strip()), 0)
        records = [line.rstrip("\r").split(delimiter) for line in rest if line.strip()]
    return first_line, records


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    values = [v.strip() for row in rows[:500] for v in row]
    comma = sum(bool(re.fullmatch(r"-?\d+,\d+", v)) for v in values)
    dot = sum(bool(re.fullmatch(r"-?\d+\.\d+", v)) for v in values)
    return "," if comma > dot else "."


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
