"""Where a dataset's file and a run's working folder live on the worker's disk, and the
names uploaded files are shown and stored under."""

import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from .models import Dataset, Run

# A file system takes at most 255 bytes per name. The stored name gets a suffix from the
# storage when it is taken ("_AbC1234") and the files written beside it are named
# ".<name>.<digest>.parquet.<host>-<pid>.partial" or ".<name>.<random>.csv.<host>-<pid>.partial"
# while they are written (host: at most 40 bytes, ingest/scratch.py): 100 bytes leave room.
STORED_NAME_BYTES = 100
SHOWN_NAME_CHARS = 255  # Dataset.name's max_length


def dataset_path(dataset: Dataset) -> Path:
    return Path(dataset.file.path)


def run_dir(run: Run) -> Path:
    return Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)


def upload_name(name: object) -> str:
    """The name a user gave a file, fit to show and to keep in the database.

    Only its last path part; no control, format or surrogate characters (PostgreSQL
    refuses NUL, and a lone surrogate cannot be written as UTF-8); at most 255 characters,
    keeping its extensions; "upload.csv" when nothing is left.
    """
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C")).strip()
    if not text.strip("."):
        return "upload.csv"
    return _shortened(text, fits=lambda s: len(s) <= SHOWN_NAME_CHARS) or "upload.csv"


def stored_file_name(name: object) -> str:
    """The name to store an upload under: `upload_name(name)` as the storage would clean
    it (spaces to "_", only letters, digits, "-", "_" and "."), cut to STORED_NAME_BYTES
    bytes of UTF-8 with its extensions kept."""
    try:
        valid = get_valid_filename(upload_name(name))
    except SuspiciousFileOperation:  # nothing usable is left, as of a name ".."
        valid = "upload.csv"
    return _shortened(valid, fits=lambda s: len(s.encode()) <= STORED_NAME_BYTES)


def _shortened(name: str, *, fits) -> str:
    """`name` with its stem cut until `fits(name)`; the extensions (".csv.gz") are kept
    when they are short, since they are what a person recognises the file by."""
    if fits(name):
        return name
    stem, dot, extensions = name.partition(".")
    extensions = dot + extensions
    if not fits("x" + extensions):
        stem, extensions = name, ""
    while stem and not fits(stem + extensions):
        stem = stem[:-1]
    return (stem.rstrip() or "upload") + extensions
