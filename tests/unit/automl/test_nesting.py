"""JSON Lines are measured on their bytes: the depth json itself would find, strings aside."""

import io
import json
import random

import pytest

from analysis.automl import nesting
from analysis.automl.errors import DataFileError
from analysis.automl.nesting import JsonLinesGuard, refuse_deep_lines

# Strings that look like brackets, quotes and escapes, which must not count.
TRICKY = ["[[[", "]]}}", '{"not": "nested"}', '\\"[', "\\\\", "\\\\\\", "plain"]


def _random_value(rng: random.Random, depth: int):
    if depth == 0:
        return rng.choice([*TRICKY, 1, None, True])
    width = rng.randint(1, 3)
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for _ in range(width)]
    return {rng.choice(TRICKY) + str(i): _random_value(rng, depth - 1) for i in range(width)}


def _true_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_true_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_true_depth, value), default=0)
    return 0


@pytest.mark.parametrize("piece_bytes", [7, 1 << 18])
def test_it_measures_the_depth_json_finds(monkeypatch, piece_bytes):
    # Small pieces cut strings, escapes and runs of backslashes at every place.
    monkeypatch.setattr(nesting, "_EXACT_PIECE_BYTES", piece_bytes)
    rng = random.Random(0)
    for _ in range(30):
        values = [_random_value(rng, rng.randint(0, 7)) for _ in range(rng.randint(1, 4))]
        text = "\n".join(json.dumps(value) for value in values).encode()
        assert nesting._line_depths(text) == [_true_depth(value) for value in values]


def test_it_names_the_first_line_nested_too_deep(monkeypatch):
    monkeypatch.setattr(nesting, "MAX_JSON_DEPTH", 3)
    shallow = json.dumps({"a": [[1]] * 50, "s": "[[[[[[[["})
    lines = "\n".join([shallow] * 5 + [json.dumps({"a": [[[[1]]]]})] + [shallow]) + "\n"
    with pytest.raises(DataFileError, match="^Line 15 nests arrays or objects 5 levels deep"):
        refuse_deep_lines(lines.encode(), first_line=10)


def test_it_measures_a_line_split_over_many_reads(monkeypatch):
    monkeypatch.setattr(nesting, "MAX_JSON_DEPTH", 3)
    text = ("\n".join([json.dumps({"a": i}) for i in range(20)] + ['{"a": [[[[1]]]]}'])).encode()
    guard = JsonLinesGuard(io.BytesIO(text))
    with pytest.raises(DataFileError, match="^Line 21 nests"):
        while guard.read(5):
            pass
