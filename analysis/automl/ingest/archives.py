"""Compressed uploads: gzip, bz2 and zip holding one table, and the guards against zip bombs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa

from ..errors import DataFileError
from .source import read_head

# An archive member that expands more than this many times, beyond the size below, is
# treated as a zip bomb. Real CSV and .xlsx files expand 3-30 times.
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 64 << 20


def compression(path: Path) -> str | None:
    """The compression of the file at `path` from its first bytes: gzip, bz2, zip or None."""
    head = read_head(path, 4)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def open_decompressed(path: Path, compression: str | None):
    """A pyarrow input stream of the file's bytes, decompressed (the one member of a zip)."""
    if compression == "zip":
        archive = zipfile.ZipFile(path)
        return pa.PythonFile(archive.open(zip_member(archive)), mode="r")
    return pa.input_stream(str(path), compression=compression)


def decompressed_head(path: Path, compression: str | None, size: int) -> bytes:
    """The first `size` bytes after decompression; a damaged archive is refused with a sentence."""
    if compression == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                member = zip_member(archive)
                with archive.open(member) as handle:
                    return handle.read(size)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DataFileError(
                "The zip archive is damaged: create it again and upload it again."
            ) from exc
    try:
        with pa.input_stream(str(path), compression=compression) as stream:
            return stream.read(size)
    except (OSError, pa.ArrowException) as exc:
        raise DataFileError(
            f"The {compression} archive is damaged or cut short: compress the file again "
            "and upload it again."
        ) from exc


def zip_member(archive: zipfile.ZipFile) -> str:
    """The name of the one table in a zip upload, after checking it is not a bomb."""
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir() and not m.filename.startswith("__MACOSX") and m.file_size
    ]
    if not members:
        raise DataFileError("The zip archive holds no file: put the CSV file in it.")
    if len(members) > 1:
        raise DataFileError(
            f"The zip archive holds {len(members)} files: put only the one table in it."
        )
    refuse_bomb(members)
    return members[0].filename


def refuse_bomb(members: list[zipfile.ZipInfo], limit: int | None = None) -> None:
    """Refuse members that expand like a zip bomb, or more than `limit` bytes in all.

    Judged from the sizes the archive declares, before anything is decompressed.
    """
    total = sum(m.file_size for m in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and ratio > ZIP_MAX_RATIO:
            raise DataFileError(
                f"The archive expands {ratio:,.0f} times ({member.file_size / 1e9:,.1f} GB), "
                "which is how zip bombs look, not tables: upload the table itself."
            )
    if limit is not None and total > limit:
        raise DataFileError(
            f"The workbook expands to {total / 1e9:,.1f} GB, more than PROMISE reads from "
            "an .xlsx: save the sheet as CSV and upload that."
        )
