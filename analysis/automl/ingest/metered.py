"""Streams that count what passes through them, so a read can be stopped at a limit.

`CountingFile` counts the compressed bytes read from the upload; `MeteredStream` counts
the bytes a decompressor (or a workbook's member) hands out, and asks the read's guard
after every read whether those numbers, and the clock, are still within the limits.
pyarrow calls them from its own threads; the guard's exception then comes out of the
reader as it was raised, with its sentence.
"""

from __future__ import annotations

import io

from .limits import Guard


class CountingFile(io.RawIOBase):
    """A binary file that counts the bytes read from it (seekable, for zipfile)."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class MeteredStream(io.RawIOBase):
    """The decompressed bytes of `stream`, counted and checked against `guard`'s limits.

    `source` counts the compressed bytes read so far (None when `stream` is not
    compressed); `compressed_size` stands in for it when the compressed size is known
    ahead (a zip member). `what` names the stream in the sentence ("gzip file");
    `ratio_after` overrides the limits' ratio_after_bytes.
    """

    def __init__(
        self,
        stream,
        guard: Guard,
        *,
        what: str,
        limit: int,
        source: CountingFile | None = None,
        compressed_size: int | None = None,
        ratio_after: int | None = None,
    ):
        self.stream = stream
        self.guard = guard
        self.what = what
        self.limit = limit
        self.source = source
        self.compressed_size = compressed_size
        self.ratio_after = ratio_after
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.out += n
        compressed = self.source.count if self.source is not None else self.compressed_size
        self.guard.check_bytes(
            self.out, compressed, what=self.what, limit=self.limit, ratio_after=self.ratio_after
        )
        self.guard.check_clock()
        return n

    def close(self) -> None:
        self.stream.close()
        if self.source is not None:
            self.source.close()
        super().close()
