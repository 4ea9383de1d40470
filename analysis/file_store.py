"""Stored files, through Django's storage API only, and the worker's local copies of them.

The AutoML core reads and writes local folders. On the default FileSystemStorage a
stored file already is a local file, so `local_copy` and `working_folder` hand out the
stored path itself and copy nothing (`make run` behaves as it always did). On an object
storage (S3 through django-storages) they materialise the objects on the worker:

- `local_copy(name)`: one file, in a cache bounded by FILE_CACHE_BYTES. Copies stay for
  the next task that needs the same file (a dataset is read by its profile, its runs and
  its exports) and the least recently used go when the cache is over its size. A copy in
  use holds a shared lock, and eviction skips locked copies.
- `working_folder(prefix)`: every object under `prefix` in a scratch folder of its own,
  removed at the end; what the task wrote, changed or removed there is sent back. Only
  the differences are sent, so tasks writing disjoint parts of one run folder at once
  (one candidate each) do not undo each other's work.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

COPY_BLOCK = 1024**2


def storage() -> Storage:
    return storages["default"]


def local_path(name: str) -> Path | None:
    """The stored file's own path when the storage is a local folder, else None."""
    try:
        return Path(storage().path(name))
    except NotImplementedError:
        return None


def is_local() -> bool:
    return local_path("x") is not None


def walk(prefix: str) -> Iterator[str]:
    """The names of every stored file under `prefix` (a folder name, no trailing "/")."""
    store = storage()
    try:
        folders, files = store.listdir(prefix)
    except FileNotFoundError:  # FileSystemStorage, a folder that does not exist
        return
    for name in files:
        yield f"{prefix}/{name}"
    for folder in folders:
        yield from walk(f"{prefix}/{folder}")


def folder_exists(prefix: str) -> bool:
    """A local folder (empty too), or at least one object under `prefix`."""
    folder = local_path(prefix)
    if folder is not None:
        return folder.is_dir()
    return next(walk(prefix), None) is not None


def delete_prefix(prefix: str) -> None:
    """Delete every stored file under `prefix` (and, locally, the emptied folders)."""
    store = storage()
    for name in list(walk(prefix)):
        store.delete(name)
    folder = local_path(prefix)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def save_from_path(local: Path, name: str) -> str:
    """Store the local file under exactly `name` (replacing what was there); returns it."""
    store = storage()
    store.delete(name)  # Storage.save would otherwise pick another name
    with local.open("rb") as handle:
        return store.save(name, File(handle, name=local.name))


def _download(name: str, target: Path) -> None:
    """Copy the stored file to `target`, whole or not at all (written beside, renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, storage().open(name, "rb") as source:
            shutil.copyfileobj(source, out, COPY_BLOCK)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    return Path(settings.FILE_CACHE_DIR)


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local file with the stored file's bytes, for as long as the block runs.

    Its modification time is the stored file's (whole seconds), so names derived from
    it (the Parquet copy beside a dataset, parquet_copy.normalized_path) are the same
    on every worker.
    """
    own = local_path(name)
    if own is not None:
        yield own
        return
    with _cached(name) as path:
        yield path
    evict()


@contextmanager
def _cached(name: str) -> Iterator[Path]:
    path = cache_dir() / "files" / name
    stamp = int(storage().get_modified_time(name).timestamp())
    if not path.exists() or int(path.stat().st_mtime) != stamp:
        _download(name, path)
        os.utime(path, (stamp, stamp))
    with path.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_SH)  # eviction skips it while the block runs
        os.utime(path, (time.time(), stamp))  # the access time orders eviction
        yield path


@contextmanager
def local_copies(names: list[str]) -> Iterator[list[Path]]:
    with ExitStack() as stack:
        yield [stack.enter_context(local_copy(name)) for name in names]


def cached_folder(prefix: str) -> Path:
    """A local folder with the stored files under `prefix` (a fitted model, which is
    never changed once stored), fetched into the cache when missing or stale. Serving
    loads the model from it and keeps it in memory; eviction may remove it later."""
    own = local_path(prefix)
    if own is not None:
        return own
    for name in walk(prefix):
        with _cached(name):
            pass
    return cache_dir() / "files" / prefix


def evict(limit: int | None = None) -> None:
    """Remove the least recently used cached copies until the cache holds at most
    `limit` bytes (FILE_CACHE_BYTES); copies in use are left."""
    limit = settings.FILE_CACHE_BYTES if limit is None else limit
    root = cache_dir() / "files"
    found = []
    for path in root.rglob("*") if root.is_dir() else ():
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file():
            found.append((info.st_atime, info.st_size, path))
    total = sum(size for _, size, _ in found)
    for _, size, path in sorted(found):
        if total <= limit:
            break
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in use
            path.unlink(missing_ok=True)
        total -= size


@contextmanager
def working_folder(prefix: str) -> Iterator[Path]:
    """A local folder holding the stored files under `prefix`; what the block writes,
    changes or removes there is stored when it ends without an error."""
    own = local_path(prefix)
    if own is not None:
        own.mkdir(parents=True, exist_ok=True)
        yield own
        return
    scratch = cache_dir() / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix=prefix.replace("/", "-") + "-"))
    try:
        fetched = {}
        for name in walk(prefix):
            relative = name[len(prefix) + 1 :]
            _download(name, folder / relative)
            fetched[relative] = _signature(folder / relative)
        yield folder
        _send_back(folder, prefix, fetched)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _signature(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _send_back(folder: Path, prefix: str, fetched: dict) -> None:
    now = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith(".partial"):
            now[path.relative_to(folder).as_posix()] = path
    for relative, path in now.items():
        if fetched.get(relative) != _signature(path):
            save_from_path(path, f"{prefix}/{relative}")
    for relative in fetched.keys() - now.keys():
        storage().delete(f"{prefix}/{relative}")
