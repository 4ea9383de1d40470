"""Every supported format and encoding reads to the same table; bad files get a sentence."""

import bz2
import gzip
import json
import threading
import zipfile

import pandas as pd
import pyarrow.csv as pacsv
import pytest

from analysis.automl.errors import DataFileError
from analysis.automl.ingest import (
    MAX_COLUMNS,
    IngestOptions,
    Visitor,
    read_table,
    scan_table,
    unique_names,
)
from analysis.automl.nesting import MAX_JSON_DEPTH
from analysis.automl.profile import profile_table
from analysis.automl.sampling import sample_table
from tests.conftest import churn_frame

ROWS = 120


def _csv_bytes(sep=",", rows=ROWS) -> bytes:
    return churn_frame(rows=rows).to_csv(index=False, sep=sep).encode()


def _kinds(path, **options):
    profile = profile_table(path, options=IngestOptions(**options) if options else None)
    return profile, {c.name: c.kind for c in profile.columns}


EXPECTED_KINDS = {
    "customer_id": "identifier",
    "tenure": "numeric",
    "monthly_charges": "numeric",
    "plan": "categorical",
    "signup_date": "datetime",
    "churned": "boolean",
}


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_it_sniffs_the_delimiter(tmp_path, sep):
    path = tmp_path / "data.txt"
    path.write_bytes(_csv_bytes(sep))
    profile, kinds = _kinds(path)
    assert (profile.rows, kinds) == (ROWS, EXPECTED_KINDS)
    assert profile.source["delimiter"] == sep


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("data.csv.gz", gzip.compress),
        ("data.csv.bz2", bz2.compress),
        ("upload.bin", gzip.compress),  # the name lies; the content decides
    ],
)
def test_it_reads_compressed_csv(tmp_path, name, pack):
    path = tmp_path / name
    path.write_bytes(pack(_csv_bytes()))
    profile, kinds = _kinds(path)
    assert (profile.rows, kinds) == (ROWS, EXPECTED_KINDS)


def test_it_reads_a_csv_inside_a_zip(tmp_path):
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/data.csv", _csv_bytes())
    assert _kinds(path)[1] == EXPECTED_KINDS


def test_it_reads_parquet_whatever_its_name(tmp_path):
    path = tmp_path / "data.csv"
    churn_frame(rows=ROWS).to_parquet(path)
    profile, kinds = _kinds(path)
    assert (profile.rows, kinds["plan"], kinds["tenure"]) == (ROWS, "categorical", "numeric")


def test_it_reads_json_lines(tmp_path):
    path = tmp_path / "data.jsonl"
    churn_frame(rows=ROWS).to_json(path, orient="records", lines=True)
    profile, kinds = _kinds(path)
    assert (profile.rows, kinds) == (ROWS, EXPECTED_KINDS)
    assert profile.source["format"] == "jsonl"


def test_it_reads_json_lines_whose_numbers_turn_into_text(tmp_path):
    path = tmp_path / "data.jsonl"
    lines = [json.dumps({"a": i, "b": "x"}) for i in range(50)] + [json.dumps({"a": "n/a"})]
    path.write_text("\n".join(lines) + "\n")
    assert profile_table(path).rows == 51


def _workbook(path, sheets):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in row])
    book.save(path)


def test_it_reads_the_first_sheet_of_a_workbook(tmp_path):
    path = tmp_path / "book.xlsx"
    _workbook(path, {"churn": churn_frame(rows=ROWS), "other": pd.DataFrame({"x": [1, 2]})})
    profile, kinds = _kinds(path)
    assert (profile.rows, kinds) == (ROWS, EXPECTED_KINDS)
    assert profile.source["sheet"] == "churn"


def test_it_reads_a_chosen_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    _workbook(path, {"churn": churn_frame(rows=ROWS), "other": pd.DataFrame({"x": [1, 2, 3]})})
    assert profile_table(path, options=IngestOptions(sheet="other")).rows == 3
    with pytest.raises(DataFileError, match="no sheet 'missing'; its sheets are: churn, other"):
        profile_table(path, options=IngestOptions(sheet="missing"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_it_reads_each_common_encoding(tmp_path, encoding):
    frame = pd.DataFrame(
        {
            "città": ["Zürich", "Málaga", "Besançon", "Gävle"] * 30,
            "température": [1.5, 2.5, 3.5, 4.5] * 30,
        }
    )
    path = tmp_path / "cities.csv"
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    profile = profile_table(path)
    assert [c.name for c in profile.columns] == ["città", "température"]
    assert {v for v, _ in profile.column("città").top_values} == {
        "Zürich",
        "Málaga",
        "Besançon",
        "Gävle",
    }


def test_it_keeps_embedded_newlines_inside_quotes(tmp_path):
    path = tmp_path / "notes.csv"
    body = "".join(f'{i},"line one\nline two, still {i}",{i % 2}\n' for i in range(60))
    path.write_text("id,note,flag\n" + body)
    profile = profile_table(path)
    assert profile.rows == 60
    assert profile.preview[0] == [0, "line one\nline two, still 0", 0]


def test_it_makes_header_names_unique_and_keeps_the_others_as_written(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,,a, b  c ,\n" + "1,2,3,4,5\n" * 30)
    names = [c.name for c in profile_table(path).columns]
    # As pandas reads them too: the exported code finds " b  c " in the user's file.
    assert names == ["a", "column_2", "a_2", " b  c ", "column_5"]


# Quoted header names holding a line break, doubled quotes and the delimiter itself.
HEADER = 'id{sep}"first\nsecond"{sep}"say ""hi""{sep} then go"{sep}flag\n'


def _header_csv(path, sep=",", preamble=""):
    rows = "".join(f'{i}{sep}"v{i}\nmore"{sep}w{i}{sep}{i % 2}\n' for i in range(40))
    path.write_text(preamble + HEADER.format(sep=sep) + rows)
    return path


def _pyarrow_names(path, sep=",", skip_rows=0) -> list[str]:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=skip_rows),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
    ).column_names


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_it_reads_quoted_header_names_as_pyarrow_does(tmp_path, sep):
    path = _header_csv(tmp_path / "quoted.csv", sep)
    profile = profile_table(path)
    assert [c.name for c in profile.columns] == _pyarrow_names(path, sep)
    assert profile.rows == 40
    assert profile.preview[0] == [0, "v0\nmore", "w0", 0]


def test_it_reads_a_quoted_header_below_a_preamble_as_pyarrow_does(tmp_path):
    path = _header_csv(tmp_path / "report.csv", preamble="Monthly report\n\n")
    profile = profile_table(path, options=IngestOptions(header_row=3))
    assert [c.name for c in profile.columns] == _pyarrow_names(path, skip_rows=2)
    assert (profile.rows, profile.source["header_line"]) == (40, 3)


def test_it_samples_by_a_target_whose_name_holds_a_line_break(tmp_path):
    path = tmp_path / "quoted.csv"
    frame = pd.DataFrame({"x": range(60), "y\nnext": [i % 2 for i in range(60)]})
    frame.to_csv(path, index=False)
    profile_table(path)
    sample, result = sample_table(path, target="y\nnext", max_rows=30, seed=0)
    assert list(sample.columns[:2]) == ["x", "y\nnext"]
    assert result.sample_rows == 30 and set(sample["y\nnext"]) == {0, 1}


def test_it_counts_the_fields_of_a_ragged_row_as_the_reader_splits_them(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n" + "1,2,3\n" * 30 + '4,"five, six"\n')
    with pytest.raises(DataFileError, match="Line 32 has 2 fields but the header has 3"):
        profile_table(path)


def _nested(depth: int) -> str:
    """JSON text of objects and arrays nested `depth` deep (json.dumps would recurse)."""
    levels = range(depth)
    opening = "".join('{"k": ' if level % 2 else "[" for level in levels)
    return opening + '"leaf"' + "".join("}" if level % 2 else "]" for level in reversed(levels))


def _json_lines(path, deep_line: int, depth: int, compress=None):
    lines = [
        f'{{"a": {i}, "b": {_nested(depth) if i == deep_line else json.dumps("plain")}}}\n'
        for i in range(1, 60)
    ]
    text = "".join(lines).encode()
    path.write_bytes(compress(text) if compress else text)
    return path


@pytest.mark.parametrize(
    ("deep_line", "compress"), [(1, None), (6, None), (6, gzip.compress), (59, bz2.compress)]
)
def test_it_refuses_json_lines_nested_too_deep_with_a_sentence(tmp_path, deep_line, compress):
    # 100,000 levels overflowed Python's json (RecursionError) and pyarrow's reader (a crash).
    path = _json_lines(tmp_path / "deep.jsonl", deep_line, 100_000, compress)
    expected = f"Line {deep_line} nests arrays or objects 100,001 levels deep; PROMISE reads"
    with pytest.raises(DataFileError, match=expected):
        profile_table(path)


def test_it_reads_json_lines_nested_up_to_the_limit(tmp_path):
    path = _json_lines(tmp_path / "nested.jsonl", 6, MAX_JSON_DEPTH - 1)
    assert profile_table(path).rows == 59


def test_it_does_not_count_brackets_inside_json_strings(tmp_path):
    path = tmp_path / "brackets.jsonl"
    lines = [json.dumps({"a": i, "b": '[{\\"' * 500}) for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    assert profile_table(path).rows == 40


class _Exhausting(Visitor):
    def __init__(self, error: type[BaseException]):
        self.error = error

    def add(self, batch):
        raise self.error()


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (RecursionError, "nests its values too deeply to be read as a table"),
        (MemoryError, "needs more memory to read than PROMISE has"),
    ],
)
def test_it_words_running_out_of_stack_or_memory_while_reading(churn_csv, error, sentence):
    with pytest.raises(DataFileError, match=sentence):
        scan_table(churn_csv, visitor_factory=lambda info, schema: _Exhausting(error))


def test_unique_names_never_collide_with_generated_names():
    assert unique_names(["column_2", "", "x", "x", "x_2"]) == [
        "column_2",
        "column_2_2",
        "x",
        "x_2",
        "x_2_2",
    ]


def test_it_reads_decimal_commas_in_semicolon_files(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("price;qty\n" + "".join(f"{i},5;{i}\n" for i in range(40)))
    column = profile_table(path).column("price")
    assert (column.kind, column.min, column.max) == ("numeric", 0.5, 39.5)


def test_it_reports_thousands_separators(tmp_path):
    path = tmp_path / "money.csv"
    path.write_text("amount,n\n" + "".join(f'"{1000 + i * 37:,}",{i}\n' for i in range(40)))
    codes = {f.code for f in profile_table(path).findings}
    assert "thousands_separators" in codes


def test_it_honours_a_header_row_and_a_delimiter_override(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("Monthly report\nexported by someone\nx|y\n" + "1|2\n" * 30)
    profile = profile_table(path, options=IngestOptions(header_row=3, delimiter="|"))
    assert ([c.name for c in profile.columns], profile.rows) == (["x", "y"], 30)


def test_it_names_columns_when_there_is_no_header(tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("1,2\n" * 30)
    profile = profile_table(path, options=IngestOptions(header_row=0))
    assert ([c.name for c in profile.columns], profile.rows) == (["column_1", "column_2"], 30)


def test_it_reads_a_column_whose_type_changes_late(tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{i}" for i in range(200_000)] + ["200000,not a number", "200001,1.5"]
    path.write_text("id,value\n" + "\n".join(rows) + "\n")
    profile = profile_table(path)
    assert profile.rows == 200_002
    assert profile.column("value").dtype == "object"


def test_a_failing_visitor_stops_the_reading_thread(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,value\n" + "".join(f"{i},{i * 2}\n" for i in range(300_000)))

    class Failing(Visitor):
        def add(self, batch):
            raise RuntimeError("visitor failed")

    with pytest.raises(RuntimeError, match="visitor failed"):
        scan_table(path, visitor_factory=lambda info, schema: Failing())
    assert not [t for t in threading.enumerate() if t.name == "ingest-read"]


def test_a_scan_leaves_the_default_memory_pool_as_it_was(tmp_path):
    import pyarrow as pa

    path = _write(tmp_path, "t.csv", _csv_bytes())
    before = pa.default_memory_pool().backend_name
    scan_table(path)
    assert pa.default_memory_pool().backend_name == before


def test_read_table_gives_dask_the_normalised_rows(tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(_csv_bytes()))
    frame = read_table(path).compute()
    assert len(frame) == ROWS
    assert list(frame.columns) == list(EXPECTED_KINDS)


# Bad input: each a sentence, never a crash


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"a,b,c\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "PNG image"),
        (bytes(range(256)) * 40, "binary data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, r"\.xls"),
    ],
)
def test_it_explains_files_it_cannot_read(tmp_path, content, phrase):
    with pytest.raises(DataFileError, match=phrase):
        profile_table(_write(tmp_path, "bad.csv", content))


def test_it_says_which_line_is_ragged(tmp_path):
    rows = ["a,b,c"] + ["1,2,3"] * 10 + ["4,5,6,7"] + ["1,2,3"] * 5
    path = _write(tmp_path, "ragged.csv", ("\n".join(rows) + "\n").encode())
    with pytest.raises(DataFileError, match=r"Line 12 has 4 fields but the header has 3"):
        profile_table(path)


def test_it_reads_a_single_column(tmp_path):
    path = _write(tmp_path, "one.csv", b"value\n" + b"".join(b"%d\n" % i for i in range(30)))
    profile = profile_table(path)
    assert ([c.name for c in profile.columns], profile.rows) == (["value"], 30)


def test_it_refuses_more_columns_than_the_limit(tmp_path):
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1))
    path = _write(tmp_path, "wide.csv", (header + "\n" + header + "\n").encode())
    with pytest.raises(DataFileError, match=f"PROMISE reads at most {MAX_COLUMNS:,}"):
        profile_table(path)


def test_it_explains_a_truncated_gzip(tmp_path):
    packed = gzip.compress(_csv_bytes(rows=20_000))
    path = _write(tmp_path, "cut.csv.gz", packed[: len(packed) // 2])
    with pytest.raises(DataFileError, match="cut short"):
        profile_table(path)


def test_it_refuses_an_xlsx_that_is_a_zip_bomb(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(80):
                member.write(block)
    with pytest.raises(DataFileError, match="how compression bombs look"):
        profile_table(path)


def test_it_explains_a_damaged_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml at all")
    with pytest.raises(DataFileError, match="workbook could not be opened"):
        profile_table(path)


def test_it_reads_stray_non_utf8_bytes_as_cp1252(tmp_path):
    path = _write(tmp_path, "mixed.csv", b"name,n\n" + b"caf\xe9,1\n" * 40)
    assert profile_table(path).column("name").top_values[0][0] == "café"


def test_it_asks_for_a_known_encoding(tmp_path):
    path = _write(tmp_path, "data.csv", _csv_bytes())
    with pytest.raises(DataFileError, match="not an encoding PROMISE knows"):
        profile_table(path, options=IngestOptions(encoding="klingon"))


def test_it_keeps_the_upload_when_it_cannot_read_it(tmp_path):
    path = _write(tmp_path, "ragged.csv", b"a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataFileError):
        profile_table(path)
    assert path.read_bytes() == b"a,b\n1,2\n3,4,5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ragged.csv"]


def test_options_round_trip_through_a_stable_key():
    assert IngestOptions(delimiter=";").key() == IngestOptions(delimiter=";").key()
    assert IngestOptions(delimiter=";").key() != IngestOptions().key()
