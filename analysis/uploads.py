"""Resumable chunked uploads: the browser sends a big file in pieces of about 8 MB.

Each piece is appended straight to one file on the web host's disk,
`<uploads folder>/<user id>/<upload id>/data`, next to a small `upload.json` that holds
the declared name and size (the folder: UPLOADS_DIR, by default MEDIA_ROOT/uploads).
The bytes already received are the size of that file, so an interrupted upload resumes
by asking how many bytes the server has and sending the rest. Nothing is held in
memory beyond one read block.

When every byte is in, `services.dataset_create_from_upload` moves the file into the
datasets storage (a rename on local storage, no second copy; streamed to S3).

Why assemble on a local disk rather than store each piece as an object and join them at
the end: S3 has no append, and joining objects server-side needs parts of 5 MB or more
(a resumed piece can be any size), so the join would read every byte back; a local file
keeps "bytes received = the file's size", the flock that serialises writers and a
cut-short piece simple. The price: every piece of one upload must reach a host that sees
this folder (one web host, sticky sessions, or a shared UPLOADS_DIR). An upload that received
nothing for UPLOAD_EXPIRY is abandoned: it is removed when its owner opens a new one.
"""

from __future__ import annotations

import fcntl
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from . import limits
from .refusals import LimitExceeded
from .storage import upload_name

CHUNK_BYTES = 8 * 1024**2
UPLOAD_EXPIRY = 7 * 24 * 3600  # seconds since the last piece arrived
READ_BLOCK = 1024**2
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadError(Exception):
    """A refused upload request: an HTTP status and a sentence for the user."""

    def __init__(self, message: str, *, status: int = 400, offset: int | None = None):
        super().__init__(message)
        self.status = status
        self.offset = offset


@dataclass(frozen=True)
class Upload:
    id: str
    owner_id: int
    name: str
    size: int
    folder: Path

    @property
    def data_path(self) -> Path:
        return self.folder / "data"

    @property
    def received(self) -> int:
        try:
            return self.data_path.stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def complete(self) -> bool:
        return self.received == self.size

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "size": self.size, "offset": self.received}


def uploads_dir() -> Path:
    """The folder unfinished uploads are assembled in, one sub-folder per user."""
    return Path(settings.UPLOADS_DIR or Path(settings.MEDIA_ROOT) / "uploads")


def uploads_root(owner_id: int) -> Path:
    return uploads_dir() / str(owner_id)


def upload_begin(*, owner_id: int, name: str, size: int) -> Upload:
    """Open an upload of `size` bytes; refuse empty files and files over the owner's
    limits (analysis/limits.py), counting the bytes their other open uploads declared."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise UploadError("Send the file's size in bytes.")
    if size == 0:
        raise UploadError("The file is empty: choose a table with a header row and data rows.")
    if name is not None and not isinstance(name, str):
        raise UploadError("Send the file's name as a string.")
    clean_name = upload_name(name)
    _discard_abandoned(owner_id)
    # Under a lock on the owner's row until the folder exists: two uploads opened at
    # once cannot both pass the quota.
    with transaction.atomic():
        limits.lock_user(owner_id)
        _within_limits(owner_id, size, pending=_open_bytes(owner_id, declared=True))
        upload_id = secrets.token_hex(16)
        folder = uploads_root(owner_id) / upload_id
        folder.mkdir(parents=True)
        (folder / "data").touch()
        (folder / "upload.json").write_text(json.dumps({"name": clean_name, "size": size}))
    return Upload(upload_id, owner_id, clean_name, size, folder)


def _within_limits(owner_id: int, size: int, *, pending: int) -> None:
    try:
        limits.check_upload(owner_id, size, pending=pending)
    except LimitExceeded as exc:
        raise UploadError(str(exc), status=exc.status) from exc


def _open_bytes(owner_id: int, *, declared: bool, besides: str = "") -> int:
    """Bytes of the owner's open uploads other than `besides`: declared, or received."""
    total = 0
    root = uploads_root(owner_id)
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name == besides:
            continue
        try:
            if declared:
                total += int(json.loads((folder / "upload.json").read_text())["size"])
            else:
                total += (folder / "data").stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return total


def upload_get(*, owner_id: int, upload_id: str) -> Upload:
    """The owner's upload with this id; another user's id is as unknown as a made-up one."""
    folder = uploads_root(owner_id) / upload_id
    if not _UPLOAD_ID.match(upload_id) or not (folder / "upload.json").is_file():
        raise UploadError(
            "This upload is unknown or was already finished: choose the file again.", status=404
        )
    meta = json.loads((folder / "upload.json").read_text())
    return Upload(upload_id, owner_id, meta["name"], int(meta["size"]), folder)


def upload_append(*, upload: Upload, offset: int, stream: BinaryIO | None, length: int) -> int:
    """Append `length` bytes read from `stream` at `offset`; returns the bytes now stored.

    The offset must be exactly what the server has, so a piece sent twice (a retry after
    a lost answer) is refused with the current offset instead of being written twice.
    A piece cut short by a dropped connection keeps what arrived; the client asks for
    the offset and goes on from there. An empty piece has no stream.
    """
    if length < 0 or length > CHUNK_BYTES * 2:
        raise UploadError(f"Send pieces of at most {CHUNK_BYTES * 2:,} bytes.")
    with upload.data_path.open("ab") as out:
        # One writer per upload: a second tab sending the same file waits its turn.
        fcntl.flock(out, fcntl.LOCK_EX)
        received = out.seek(0, 2)
        if offset != received:
            raise UploadError(
                f"The server has {received:,} bytes of this file, not {offset:,}: "
                "go on from there.",
                status=409,
                offset=received,
            )
        if received + length > upload.size:
            raise UploadError(
                "This piece goes past the size declared for the file.", status=413, offset=received
            )
        # The limits may have been lowered since the upload began: the running total is
        # checked again, and an upload that cannot fit any more is given up whole.
        try:
            limits.check_upload(
                upload.owner_id,
                received + length,
                pending=_open_bytes(upload.owner_id, declared=False, besides=upload.id),
            )
        except LimitExceeded as exc:
            upload_discard(upload=upload)
            raise UploadError(
                f"{exc} The upload was stopped and what it had sent removed.", status=exc.status
            ) from exc
        remaining = length
        while remaining and stream is not None:
            block = stream.read(min(READ_BLOCK, remaining))
            if not block:
                break
            out.write(block)
            remaining -= len(block)
        out.flush()
        return out.tell()


def upload_discard(*, upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)


def _discard_abandoned(owner_id: int) -> None:
    """Remove the owner's uploads that received no piece for UPLOAD_EXPIRY."""
    for folder in abandoned_uploads(uploads_root(owner_id), time.time() - UPLOAD_EXPIRY):
        shutil.rmtree(folder, ignore_errors=True)


def abandoned_uploads(root: Path, cutoff: float) -> list[Path]:
    """The upload folders under `root` whose data received nothing since `cutoff`."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        try:
            if (folder / "data").stat().st_mtime < cutoff:
                found.append(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found
