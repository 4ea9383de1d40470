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
# Two comparisons are about 20 times faster than numpy.isin on a block of bytes.
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))


def _either(data: np.ndarray, pair: tuple[int, int]) -> np.ndarray:
    return (data == pair[0]) | (data == pair[1])


def refuse_deep_lines(lines: bytes, *, first_line: int = 1) -> None:
    """Raise DataFileError when one of the newline-separated JSON texts nests too deep.

    `first_line` is the 1-based number of the first line in `lines`, for the message.
    """
    data = np.frombuffer(lines, dtype=np.uint8)
    opens = np.flatnonzero(_either(data, _OPEN))
    if len(opens) <= MAX_JSON_DEPTH:
        return
    ends = np.append(np.flatnonzero(data == _NEWLINE), len(data))
    starts = np.concatenate(([0], ends[:-1] + 1))
    suspects = np.flatnonzero(np.diff(np.searchsorted(opens, ends), prepend=0) > MAX_JSON_DEPTH)
    if not len(suspects):
        return
    # All suspects measured together: many of them cost a few numpy calls, not a loop.
    joined = b"\n".join(lines[starts[i] : ends[i]] for i in suspects)
    for index, depth in zip(suspects, _line_depths(joined), strict=True):
        if depth > MAX_JSON_DEPTH:
            raise DataFileError(
                f"Line {first_line + int(index):,} nests arrays or objects {depth:,} levels "
                f"deep; PROMISE reads at most {MAX_JSON_DEPTH}: flatten that line's values, "
                "or remove the line."
            )


def _line_depths(text: bytes) -> list[int]:
    """The deepest nesting of arrays and objects of each line of JSON texts (strings ignored).

    `text` is measured `_EXACT_PIECE_BYTES` at a time; what a line has open at the end of
    a piece (its level, a string, a run of backslashes) carries over to the next.
    """
    depths: list[int] = []
    deepest = level = backslashes = 0
    in_string = False
    for start in range(0, len(text), _EXACT_PIECE_BYTES):
        piece = np.frombuffer(text[start : start + _EXACT_PIECE_BYTES], dtype=np.uint8)
        size = len(piece)
        ends = np.flatnonzero(piece == _NEWLINE)
        starts = np.concatenate(([0], ends + 1))
        starts = starts[starts < size]
        first_end = int(ends[0]) + 1 if len(ends) else size  # the first line's bytes
        quote = piece == _QUOTE
        backslash = piece == _BACKSLASH
        if backslashes or backslash.any():
            # A quote ends a string unless an odd run of backslashes comes right before it.
            index = np.arange(size, dtype=np.int32)
            last_other = np.maximum.accumulate(np.where(backslash, -1 - backslashes, index))
            run_before = np.empty(size, dtype=np.int32)
            run_before[0] = backslashes
            run_before[1:] = index[:-1] - last_other[:-1]
            quote &= (run_before & 1) == 0
            backslashes = int(size - 1 - last_other[-1])
        # Counted from each line's start: each newline takes back what its line added.
        quotes = quote.astype(np.int32)
        quotes[ends] = -np.add.reduceat(quotes, starts)[: len(ends)]
        inside = (np.cumsum(quotes, dtype=np.int32) & 1).astype(bool)  # after each byte
        if in_string:  # the first line goes on inside a string
            inside[:first_end] ^= True
        step = _either(piece, _OPEN).astype(np.int32) - _either(piece, _CLOSE)
        step[inside] = 0
        step[ends] = -np.add.reduceat(step, starts)[: len(ends)]
        levels = np.cumsum(step, dtype=np.int32)
        levels[:first_end] += level  # the first line goes on from the level it had
        maxima = np.maximum.reduceat(levels, starts).tolist()
        if len(ends):
            depths.append(max(deepest, maxima[0]))
            depths.extend(maxima[1 : len(ends)])
            deepest = level = 0
            in_string = False
        if len(starts) > len(ends):  # the last line goes on into the next piece
            deepest = max(deepest, maxima[-1])
            level, in_string = int(levels[-1]), bool(inside[-1])
    if text and not text.endswith(b"\n"):
        depths.append(deepest)
    return depths


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
