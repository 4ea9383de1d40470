"""The SHA-256 of a stored file, read in blocks, so an export can name the exact file.

The hash is over the file's bytes as uploaded, not over the parsed table: it is what
`sha256sum FILE` prints, and what the exported train.py compares a data file with.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# Blocks of 1 MB: memory stays flat whatever the file's size, and the per-call cost of
# hashing and reading is negligible next to the bytes.
BLOCK_BYTES = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The lowercase hex SHA-256 of the file at `path`, read 1 MB at a time."""
    digest = hashlib.sha256()
    block = bytearray(BLOCK_BYTES)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(block):
            digest.update(view[:size])
    return digest.hexdigest()
