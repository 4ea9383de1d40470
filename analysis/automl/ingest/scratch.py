"""Files being written: named so that a crash leaves them recognisable, and removable.

Whatever ingest writes on the way (the Parquet copy before it is complete, the CSV text a
sheet or JSON Lines file is rewritten to) is named ``….<host>-<pid>.partial``: the
machine and the process writing it. A complete Parquet copy is renamed into place in one
step, so a reader never sees half of one; scratch text is deleted when the read ends. A
file of that name whose process is gone was left by a crash: `partial_owner` tells who
wrote it, and the worker's start and ``manage.py cleanup`` remove it.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from pathlib import Path

from .source import scratch_dir

PARTIAL_SUFFIX = ".partial"
_PARTIAL_NAME = re.compile(r"\.(?P<host>[^./]+)-(?P<pid>\d+)\.partial$")


def host_name() -> str:
    """This machine's name as partial files carry it: its first label, without dots."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0])[:40] or "host"


def _owner_tag() -> str:
    return f"{host_name()}-{os.getpid()}{PARTIAL_SUFFIX}"


def partial_path(final: Path) -> Path:
    """Where `final` is written before it is complete (then renamed onto `final`)."""
    return final.with_name(f"{final.name}.{_owner_tag()}")


def scratch_text(beside: Path, suffix: str = ".csv"):
    """An open text file for a temporary rewrite of the upload `beside` (delete it after)."""
    return tempfile.NamedTemporaryFile(  # noqa: SIM115 - the caller closes and deletes it
        "w",
        prefix=f".{beside.name}.",
        suffix=f"{suffix}.{_owner_tag()}",
        delete=False,
        encoding="utf-8",
        newline="",
        dir=scratch_dir(beside),
    )


def partial_owner(name: str) -> tuple[str, int] | None:
    """The host and process id that wrote the partial file `name`, if it is one of ours."""
    match = _PARTIAL_NAME.search(name)
    return (match["host"], int(match["pid"])) if match else None


def writer_is_gone(name: str) -> bool:
    """Whether the partial file `name` was written by a process of this machine that has
    ended (a crash: a live writer renames or deletes its file when it is done)."""
    owner = partial_owner(name)
    if owner is None or owner[0] != host_name():
        return False
    try:
        os.kill(owner[1], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_crashed_partials(beside: Path) -> None:
    """Remove what crashed reads of the upload `beside` left next to it (a read that was
    killed and is now run again, by a new process, finds its predecessor's files)."""
    for path in beside.parent.glob(f".{beside.name}.*{PARTIAL_SUFFIX}"):
        if writer_is_gone(path.name):
            path.unlink(missing_ok=True)
