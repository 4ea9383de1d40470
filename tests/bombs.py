"""A corpus of compression bombs: small files that expand into billions of rows or bytes.

Each is written in a second or two, without compressing what it expands to: a gzip or bz2
file is one compressed member repeated (both formats allow members one after another),
and a zip or .xlsx member is one raw deflate block, ended by a full flush, repeated (a
full flush starts the next block afresh, so the same input compresses to the same bytes).

    python -m tests.bombs DIR              write the corpus into DIR
    python -m tests.bombs measure PATH     profile PATH under the settings' limits in this
                                           process; print seconds, peak memory and error
"""

from __future__ import annotations

import bz2
import gzip
import json
import random
import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROW = b"1,2,3\n"
HEADER = b"a,b,c\n"
BLOCK = ROW * (1 << 20)  # 6 MB of rows


def gzip_rows(path: Path, *, megabytes: float = 10) -> None:
    """A gzip of about `megabytes` MB holding ~1,000 times as much: billions of rows."""
    member = gzip.compress(BLOCK * 4, 9)
    with path.open("wb") as out:
        out.write(gzip.compress(HEADER, 9))
        for _ in range(int(megabytes * 1e6 / len(member)) + 1):
            out.write(member)


def gzip_json_lines(path: Path, *, megabytes: float = 2) -> None:
    """A gzip of JSON Lines, one small object repeated a few hundred million times."""
    member = gzip.compress(b'{"a": 1, "b": 2}\n' * (1 << 22), 9)
    with path.open("wb") as out:
        for _ in range(int(megabytes * 1e6 / len(member)) + 1):
            out.write(member)


def bz2_rows(path: Path, *, megabytes: float = 1) -> None:
    """A bz2 file: bzip2 packs repeated rows ten thousand times and more."""
    stream = bz2.compress(BLOCK, 9)
    with path.open("wb") as out:
        out.write(bz2.compress(HEADER, 9))
        for _ in range(int(megabytes * 1e6 / len(stream)) + 1):
            out.write(stream)


class _Deflated:
    """Raw deflate of `head` then `block` `repeats` times, with its size and CRC-32."""

    def __init__(self, head: bytes, block: bytes, repeats: int, tail: bytes = b""):
        first = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.head = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
        again = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.block = again.compress(block) + again.flush(zlib.Z_FULL_FLUSH)
        last = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.tail = last.compress(tail) + last.flush(zlib.Z_FINISH)
        self.repeats = repeats
        self.size = len(head) + len(block) * repeats + len(tail)
        self.compressed_size = len(self.head) + len(self.block) * repeats + len(self.tail)
        crc = zlib.crc32(head)
        for _ in range(repeats):
            crc = zlib.crc32(block, crc)
        self.crc = zlib.crc32(tail, crc)

    def write(self, out) -> None:
        out.write(self.head)
        for _ in range(self.repeats):
            out.write(self.block)
        out.write(self.tail)


def _write_zip(path: Path, members: list[tuple[str, _Deflated | bytes]]) -> None:
    """A zip archive (no zip64: every member under 4 GB) of deflated or stored members."""
    central = []
    with path.open("wb") as out:
        for name, member in members:
            offset, encoded = out.tell(), name.encode()
            if isinstance(member, bytes):
                method, crc, size, packed = 0, zlib.crc32(member), len(member), len(member)
            else:
                method, crc, size, packed = 8, member.crc, member.size, member.compressed_size
            fields = (20, 0, method, 0, 0x21, crc, packed, size, len(encoded))
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded)
            if isinstance(member, bytes):
                out.write(member)
            else:
                member.write(out)
            central.append(
                struct.pack("<IH", 0x02014B50, 20)
                + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0, offset)
                + encoded
            )
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        n = len(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(directory), start, 0))


def zip_member(path: Path, *, gigabytes: float = 3.5) -> None:
    """A zip whose one CSV member expands to `gigabytes` GB (a few MB packed)."""
    repeats = int(gigabytes * 1e9 / len(BLOCK))
    _write_zip(path, [("table.csv", _Deflated(HEADER, BLOCK, repeats))])


def nested_zip(path: Path) -> None:
    """A zip holding a zip bomb: ingest decompresses one level, and sees binary data."""
    inner = path.with_name(path.name + ".inner")
    zip_member(inner, gigabytes=3.5)
    _write_zip(path, [("inner.zip", inner.read_bytes())])
    inner.unlink()


_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    b'worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row>'
)
_SHEET_ROW = b"<row><c><v>1</v></c><c><v>2</v></c></row>"
_SHEET_TAIL = b"</sheetData></worksheet>"


def _workbook(path: Path, sheet_rows: int, rows: bytes = _SHEET_ROW * (1 << 16)) -> None:
    block_rows = rows.count(b"<row>")
    sheet = _Deflated(_SHEET_HEAD, rows, max(sheet_rows // block_rows, 1), _SHEET_TAIL)
    _write_zip(
        path,
        [
            ("[Content_Types].xml", _TYPES),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", sheet),
        ],
    )


def xlsx_sheet(path: Path) -> None:
    """A workbook whose sheet's XML expands to 2.7 GB, a thousand times its size."""
    _workbook(path, sheet_rows=64_000_000)


def xlsx_rows(path: Path) -> None:
    """A workbook of 1.5 million rows in 62 MB of XML: past Excel's 1,048,576 rows, and
    under the size at which the expansion ratio is judged."""
    _workbook(path, sheet_rows=1_500_000)


def xlsx_under_ratio(path: Path) -> None:
    """A 20 MB workbook whose sheet expands 59 times, under the ratio limit, to 1.2 GB:
    what a sheet of short random words looks like, and more XML than openpyxl reads in
    minutes."""
    words = random.Random(0)
    rows = b"".join(
        b'<row><c><v>1</v></c><c t="inlineStr"><is><t>%s</t></is></c></row>'
        % bytes(words.choice(b"ab") for _ in range(4))
        for _ in range(1 << 14)
    )
    _workbook(path, sheet_rows=1100 << 14, rows=rows)


def parquet_rows(path: Path) -> None:
    """A 0.5 MB Parquet file of 52 million rows of constants (1 GB once decoded)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 1 << 20
    table = pa.table({"a": np.zeros(rows, dtype=np.int64), "b": np.ones(rows)})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(50):
            writer.write_table(table, row_group_size=rows)


def wide_header(path: Path) -> None:
    """A gzip CSV whose header row has 1,000,000 columns (a 2 MB line)."""
    header = b",".join(b"c%d" % i for i in range(1_000_000)) + b"\n"
    path.write_bytes(gzip.compress(header + b"1\n", 9))


# name → (writer, the words the refusal must contain)
CORPUS: dict[str, tuple[Callable[[Path], None], str]] = {
    "rows.csv.gz": (gzip_rows, "expands more than 100 times"),
    "rows.csv.bz2": (bz2_rows, "expands more than 100 times"),
    "rows.jsonl.gz": (gzip_json_lines, "gzip file expands more than 100 times"),
    "member.zip": (zip_member, "expands more than 100 times"),
    "nested.zip": (nested_zip, "holds binary data"),
    "sheet.xlsx": (xlsx_sheet, "workbook expands"),
    "rows.xlsx": (xlsx_rows, "workbook expands more than 100 times"),
    "big_sheet.xlsx": (xlsx_under_ratio, "workbook expands past 1 GB"),
    "wide.csv.gz": (wide_header, "at least"),
    "rows.parquet": (parquet_rows, "Parquet file expands more than 100 times"),
}


def write_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (write, _expected) in CORPUS.items():
        paths[name] = folder / name
        if not paths[name].exists():
            write(paths[name])
    return paths


def measure(path: Path) -> dict:
    """Profile `path` in this process under the settings' limits: seconds, peak RSS, error.

    Django is set up here, so the settings (and their PROMISE_MAX_* variables) apply.
    """
    import django

    django.setup()
    from analysis.automl.errors import UserFacingError
    from analysis.automl.ingest.limits import guarded
    from analysis.automl.profile import profile_table
    from analysis.read_limits import limits_from_settings

    started, error = time.monotonic(), None
    try:
        with guarded(limits_from_settings()):
            profile_table(path)
    except UserFacingError as exc:
        error = str(exc)
    return {
        "seconds": round(time.monotonic() - started, 2),
        "peak_rss_mb": round(_peak_rss_kb() / 1024, 1),
        "error": error,
    }


def _peak_rss_kb() -> int:
    """This process's peak resident memory. Linux's VmHWM, not ru_maxrss: after fork and
    exec, ru_maxrss still counts the parent's memory at the fork (pytest's, here)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        print(json.dumps(measure(Path(sys.argv[2]))))
    else:
        for name, path in write_corpus(Path(sys.argv[1])).items():
            print(f"{name}: {path.stat().st_size:,} bytes")
