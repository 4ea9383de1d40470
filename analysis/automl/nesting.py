"""How deep JSON Lines nest arrays and objects, checked before anything parses them.

pyarrow's JSON reader recurses once per level: a line nested some thousands of levels
deep overflows its stack and the whole worker dies (a segmentation fault, not an
exception), and Python's json module stops at about a thousand levels with a
RecursionError. So every line is measured first, on the bytes, without parsing: a line
nested deeper than `MAX_JSON_DEPTH` is refused with a sentence.

Measuring is cheap for ordinary files. A line that opens at most `MAX_JSON_DEPTH`
brackets in all cannot nest deeper, which numpy tells for a whole block of lines at
once; only lines that open more are measured exactly, with brackets inside strings
left out.
"""

from __future__ import annotations

import io

import numpy as np

from .errors import DataFileError

# Tables nest a few levels (a list of objects in a cell); nested values become JSON
# text in a column anyway. pyarrow crashed between 3,000 and 10,000 levels.
MAX_JSON_DEPTH = 100
# Lines measured exactly are taken this many bytes at a time, which bounds the memory
# of the measurement (a few int32 arrays of this length).
_EXACT_PIECE_BYTES = 1 << 18

_NEWLINE, _QUOTE, _BACKSLASH = ord("\n"), ord('"'), ord("\\")
_OPEN = np.array([ord("["), ord("{")], dtype=np.uint8)
_CLOSE = np.array([ord("]"), ord("}")], dtype=np.uint8)


def refuse_deep_lines(lines: bytes, *, first_line: int = 1) -> None:
    """Raise DataFileError when one of the newline-separated JSON texts nests too deep.

    `first_line` is the 1-based number of the first line in `lines`, for the message.
    """
    data = np.frombuffer(lines, dtype=np.uint8)
    ends = np.append(np.flatnonzero(data == _NEWLINE), len(data))
    opens = np.flatnonzero(np.isin(data, _OPEN))
    if len(opens) <= MAX_JSON_DEPTH:
        return
    per_line = np.diff(np.searchsorted(opens, ends, side="right"), prepend=0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    for index in np.flatnonzero(per_line > MAX_JSON_DEPTH):
        depth = _depth(lines[starts[index] : ends[index]])
        if depth > MAX_JSON_DEPTH:
            raise DataFileError(
                f"Line {first_line + int(index):,} nests arrays or objects {depth:,} levels "
                f"deep; PROMISE reads at most {MAX_JSON_DEPTH}: flatten that line's values, "
                "or remove the line."
            )


def _depth(line: bytes) -> int:
    """The deepest nesting of arrays and objects in one JSON text (strings ignored)."""
    deepest, level, in_string, backslashes = 0, 0, False, 0
    for start in range(0, len(line), _EXACT_PIECE_BYTES):
        piece = np.frombuffer(line[start : start + _EXACT_PIECE_BYTES], dtype=np.uint8)
        index = np.arange(len(piece), dtype=np.int32)
        # A quote ends a string unless an odd run of backslashes comes right before it.
        backslash = piece == _BACKSLASH
        last_other = np.maximum.accumulate(np.where(backslash, -1 - backslashes, index))
        run_before = np.empty(len(piece), dtype=np.int32)
        run_before[0] = backslashes
        run_before[1:] = index[:-1] - last_other[:-1]
        quote = (piece == _QUOTE) & (run_before % 2 == 0)
        inside = (np.cumsum(quote, dtype=np.int32) % 2 == 1) ^ in_string
        step = np.isin(piece, _OPEN).astype(np.int32) - np.isin(piece, _CLOSE)
        step[inside] = 0
        levels = level + np.cumsum(step, dtype=np.int32)
        deepest = max(deepest, int(levels.max()))
        # `inside` holds the state after each byte, quotes included.
        level, in_string = int(levels[-1]), bool(inside[-1])
        backslashes = int(len(piece) - 1 - last_other[-1])
    return deepest


class JsonLinesGuard(io.RawIOBase):
    """A binary stream of JSON Lines that refuses a line nested too deep before it is read.

    Wrap it with ``pyarrow.PythonFile`` for pyarrow's reader. Each line is measured as
    soon as its end has been read, so no reader ever parses it first: readers parse
    whole lines only. The bytes of a line not yet ended are kept until it ends.
    """

    def __init__(self, stream):
        self.stream = stream
        self.pending: list[bytes] = []
        self.line = 1

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self.stream.read() if size is None or size < 0 else self.stream.read(size)
        self._measure(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.stream.close()
        super().close()

    def _measure(self, data: bytes) -> None:
        if not data:  # the end: the last line may have no newline
            lines, self.pending = b"".join(self.pending), []
        else:
            end = data.rfind(b"\n")
            if end < 0:
                self.pending.append(data)
                return
            lines = b"".join([*self.pending, data[: end + 1]])
            self.pending = [data[end + 1 :]]
        if lines:
            refuse_deep_lines(lines, first_line=self.line)
            self.line += lines.count(b"\n")
