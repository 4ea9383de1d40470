"""A column whose values change type after the first blocks is widened from its values."""

import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from analysis.automl.errors import DataFileError
from analysis.automl.ingest import Visitor, scan_table, streaming

ROWS = 3000  # many blocks of 4 KB: the type is inferred from the first only


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch):
    monkeypatch.setattr(streaming, "BLOCK_SIZE", 4096)


class _Rows(Visitor):
    def __init__(self, info, schema):
        self.schema, self.batches = schema, []

    def add(self, batch):
        self.batches.append(batch)

    def column(self, name):
        return pa.Table.from_batches(self.batches, self.schema).column(name).to_pylist()


def _scan(path) -> _Rows:
    return scan_table(path, visitor_factory=_Rows)[1]


def _late_csv(tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{i},{i}" for i in range(ROWS)] + [f"{ROWS},1.5,twelve", f"{ROWS + 1},7,8"]
    path.write_text("id,price,count\n" + "\n".join(rows) + "\n")
    return path


def test_it_widens_integers_to_floats_and_to_text_when_later_values_need_it(tmp_path):
    rows = _scan(_late_csv(tmp_path))
    types = {f.name: f.type for f in rows.schema}
    assert types == {"id": pa.int64(), "price": pa.float64(), "count": pa.string()}
    assert rows.column("price")[-2:] == [1.5, 7.0]
    assert rows.column("count")[-3:] == [str(ROWS - 1), "twelve", "8"]


class _Reworded:
    """A pyarrow reader whose errors say something else: the widening must not read them."""

    def __init__(self, reader):
        self.reader, self.schema = reader, reader.schema

    def __iter__(self):
        try:
            yield from self.reader
        except pa.ArrowInvalid:
            raise pa.ArrowInvalid("something did not work") from None


def test_it_widens_whatever_pyarrow_s_error_messages_say(tmp_path, monkeypatch):
    open_csv, read_csv = pacsv.open_csv, pacsv.read_csv

    def read_reworded(*args, **kwargs):
        try:
            return read_csv(*args, **kwargs)
        except pa.ArrowInvalid:
            raise pa.ArrowInvalid("something did not work") from None

    monkeypatch.setattr(pacsv, "open_csv", lambda *a, **k: _Reworded(open_csv(*a, **k)))
    monkeypatch.setattr(pacsv, "read_csv", read_reworded)
    types = {f.name: f.type for f in _scan(_late_csv(tmp_path)).schema}
    assert (types["price"], types["count"]) == (pa.float64(), pa.string())


def test_it_widens_with_the_file_s_decimal_comma(tmp_path):
    path = tmp_path / "eu.csv"
    rows = [f"{i},5;{i}" for i in range(ROWS)] + ["1,5;2,25"]
    path.write_text("price;qty\n" + "\n".join(rows) + "\n")
    rows = _scan(path)
    assert {f.name: f.type for f in rows.schema}["qty"] == pa.float64()
    assert rows.column("qty")[-1] == 2.25


def test_it_still_reports_bad_text_found_after_the_first_blocks(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(ROWS)) + b"1,caf\xff\n")
    with pytest.raises(DataFileError, match="not valid utf-8 text"):
        _scan(path)


def _jsonl(tmp_path, last: dict):
    path = tmp_path / "data.jsonl"
    lines = [json.dumps({"a": i, "b": "x"}) for i in range(ROWS)] + [json.dumps(last)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("last", "wanted"),
    [({"a": 1.5, "b": "y"}, pa.float64()), ({"a": "twelve", "b": "y"}, pa.string())],
)
def test_it_widens_a_json_lines_field_that_changes_type_late(tmp_path, last, wanted):
    rows = _scan(_jsonl(tmp_path, last))
    assert {f.name: f.type for f in rows.schema}["a"] == wanted
    assert len(rows.column("a")) == ROWS + 1


def test_it_reads_a_json_lines_field_that_first_appears_late(tmp_path):
    rows = _scan(_jsonl(tmp_path, {"a": 1, "b": "y", "c": 3}))
    assert rows.column("c")[-2:] == [None, 3]


def test_it_names_the_json_line_that_is_not_json(tmp_path):
    path = _jsonl(tmp_path, {"a": 1})
    path.write_text(path.read_text() + '{"a": nope}\n')
    with pytest.raises(DataFileError, match=f"Line {ROWS + 2} is not valid JSON"):
        _scan(path)
