"""A dataset's file and a run's working folder as local paths for the AutoML core (on
a worker, from the storage: analysis/file_store.py), and the names uploaded files are
shown and stored under."""

import posixpath
import time
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from . import file_store
from .models import Dataset, Run

# A file system takes at most 255 bytes per name. The stored name gets a suffix from the
# storage when it is taken ("_AbC1234") and the files written beside it are named
# ".<name>.<digest>.parquet.<host>-<pid>.partial" or ".<name>.<random>.csv.<host>-<pid>.partial"
# while they are written (host: at most 40 bytes, ingest/scratch.py): 100 bytes leave room.
STORED_NAME_BYTES = 100
SHOWN_NAME_CHARS = 255  # Dataset.name's max_length


@contextmanager
def dataset_file(dataset: Dataset, *, store_copies: bool = False) -> Iterator[Path]:
    """The dataset's file on this machine, with the Parquet copies made of it beside
    (parquet_copy.normalized_path); `store_copies`: the copies written meanwhile (by
    profiling) are stored too, so that no other worker reads the text again."""
    name = dataset.file.name
    with ExitStack() as stack:
        path = stack.enter_context(file_store.local_copy(name))
        if file_store.local_path(name) is not None:
            yield path
            return
        stored = _copies_stored(name)
        stack.enter_context(file_store.local_copies(stored))
        yield path
        if store_copies:
            folder = posixpath.dirname(name)
            for copy in path.parent.glob(f".{path.name}.*.parquet"):
                if f"{folder}/{copy.name}" not in stored:
                    file_store.save_from_path(copy, f"{folder}/{copy.name}")


def _copies_stored(name: str) -> list[str]:
    folder, base = posixpath.split(name)
    _, files = file_store.storage().listdir(folder)
    return [f"{folder}/{f}" for f in files if f.startswith(f".{base}.") and f.endswith(".parquet")]


def dataset_delete_files(name: str) -> None:
    """Delete a dataset's stored file and the Parquet copies made of it."""
    if name:
        for copy in _copies_stored(name):
            file_store.storage().delete(copy)
        file_store.storage().delete(name)


def dataset_path(dataset: Dataset) -> Path:
    """The dataset's file on local storage (FileSystemStorage) only: the tests look there."""
    return Path(dataset.file.path)


def run_dir(run: Run) -> Path:
    """The run's folder on local storage only; workers use `run_folder`."""
    return Path(file_store.storage().path(run_prefix(run.pk)))


def run_prefix(run_id: int) -> str:
    return f"runs/{run_id}"


def run_folder(run: Run):
    """The run's folder (sample, holdout, searches, models) as a local working folder
    for the block; what it writes there is stored when it ends (file_store)."""
    return file_store.working_folder(run_prefix(run.pk))


def stored_model_dir(run: Run, folder: Path, model_dir: str) -> str:
    """What to keep in CandidateResult.model_dir for a model written in the run's working
    folder: its path on local storage (as always), its storage prefix otherwise."""
    if file_store.is_local():
        return model_dir
    return f"{run_prefix(run.pk)}/{Path(model_dir).relative_to(folder).as_posix()}"


# Serving asks for the model's folder on every prediction: the storage is asked again
# (a second round may have replaced the model) at most this often.
MODEL_CHECK_SECONDS = 10.0
_checked: dict[str, float] = {}


def model_folder(model_dir: str) -> Path:
    """A fitted model's folder on this machine, from what CandidateResult.model_dir holds."""
    if Path(model_dir).is_absolute():
        return Path(model_dir)
    local = file_store.cache_dir() / "files" / model_dir
    if time.monotonic() - _checked.get(model_dir, -MODEL_CHECK_SECONDS) >= MODEL_CHECK_SECONDS:
        local = file_store.cached_folder(model_dir)
        _checked[model_dir] = time.monotonic()
    return local


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
