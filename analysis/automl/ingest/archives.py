"""Compressed uploads: gzip, bz2 and zip holding one table, and the guards against zip bombs.

A zip member is judged twice: before it is read, from the sizes the archive declares
(zipfile never hands out more than a member declares, so they bound it), and while it is
read, like gzip and bz2, whose sizes nobody declares: the bytes out of the decompressor
are counted against the read's limits (`limits`, `metered`).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pyarrow as pa

from ..errors import DataFileError
from .limits import Guard, current_guard
from .metered import CountingFile, MeteredStream
from .source import read_head


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


def open_decompressed(path: Path, compression: str | None, guard: Guard | None = None):
    """A pyarrow input stream of the file's bytes, decompressed (the one member of a zip),
    counted against `guard`'s limits (the current read's) as it is read."""
    guard = guard or current_guard()
    source = CountingFile(open(path, "rb"))  # noqa: SIM115 - closed with the stream
    try:
        if compression is None:
            stream = source
            what, limit, source = "file", sys.maxsize, None
        elif compression == "zip":
            archive = zipfile.ZipFile(source)
            stream = archive.open(zip_member(archive, guard))
            what, limit = "zip archive", guard.limits.decompressed_bytes
        else:
            stream = pa.CompressedInputStream(pa.PythonFile(source, mode="r"), compression)
            what, limit = f"{compression} file", guard.limits.decompressed_bytes
    except BaseException:
        source.close()
        raise
    metered = MeteredStream(stream, guard, what=what, limit=limit, source=source)
    return pa.PythonFile(metered, mode="r")


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


def zip_member(archive: zipfile.ZipFile, guard: Guard | None = None) -> str:
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
    guard = guard or current_guard()
    refuse_bomb(members, guard, what="zip archive", limit=guard.limits.decompressed_bytes)
    return members[0].filename


def refuse_bomb(
    members: list[zipfile.ZipInfo], guard: Guard, *, what: str, limit: int, after: int | None = None
) -> None:
    """Refuse members that expand past the ratio limit, or past `limit` bytes in all.

    Judged from the sizes the archive declares, before anything is decompressed.
    """
    total = sum(m.file_size for m in members)
    for member in members:
        guard.check_bytes(
            member.file_size, member.compress_size, what=what, limit=limit, ratio_after=after
        )
    if total > limit:
        guard.check_bytes(total, None, what=what, limit=limit)
