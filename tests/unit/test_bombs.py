"""Read limits: each bomb of the corpus is refused within 30 s and 1 GB, and each limit,
set low, stops an ordinary file while it streams, with a sentence naming the limit."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from analysis.automl.errors import DataFileError
from analysis.automl.ingest import Visitor, scan_table
from analysis.automl.ingest import limits as limits_module
from analysis.automl.ingest.limits import LimitExceeded, ReadAbandoned, ReadLimits, guarded
from analysis.automl.ingest.scratch import host_name
from analysis.automl.profile import profile_table
from tests.bombs import CORPUS, write_corpus

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30
PEAK_MB = 1024


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("bombs"))


def _measure(path: Path, **env: str) -> dict:
    # A process of its own, so its peak memory is this file's alone.
    result = subprocess.run(
        [sys.executable, "-m", "tests.bombs", "measure", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{path.name}: {measured}")
    return measured


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_bomb_is_refused_within_30_s_and_1_gb(corpus, name):
    measured = _measure(corpus[name])
    assert measured["error"] and CORPUS[name][1] in measured["error"], measured
    assert measured["seconds"] < SECONDS, measured
    assert measured["peak_rss_mb"] < PEAK_MB, measured


def test_a_sheet_of_no_stated_size_is_stopped_by_the_clock_in_bounded_memory(corpus):
    # With the workbook limit raised, only the clock stops this 1.2 GB sheet; openpyxl
    # would parse all of it, holding gigabytes, before its first row, to find its size.
    measured = _measure(
        corpus["big_sheet.xlsx"],
        PROMISE_MAX_XLSX_BYTES=str(10 << 30),
        PROMISE_MAX_PROFILE_SECONDS="5",
    )
    assert "took longer than 5 seconds, the limit" in measured["error"], measured
    assert measured["seconds"] < 10 and measured["peak_rss_mb"] < 500, measured


def _csv(path: Path, rows: int, columns: int = 3) -> Path:
    header = ",".join(f"c{i}" for i in range(columns))
    body = "".join(
        ",".join(str(r * columns + c) for c in range(columns)) + "\n" for r in range(rows)
    )
    path.write_text(header + "\n" + body)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_the_row_limit_stops_the_read_and_leaves_no_partial_copy(tmp_path):
    path = _csv(tmp_path / "long.csv", rows=200_000)
    with pytest.raises(LimitExceeded, match="more than 1,000 rows, the most PROMISE reads"):
        with guarded(ReadLimits(rows=1000)):
            profile_table(path)
    assert _leftovers(tmp_path) == []


def test_the_column_limit_names_the_count_and_the_limit(tmp_path):
    path = _csv(tmp_path / "wide.csv", rows=10, columns=5)
    with pytest.raises(LimitExceeded, match="The table has 5 columns; PROMISE reads at most 4"):
        with guarded(ReadLimits(columns=4)):
            profile_table(path)


def test_a_header_longer_than_the_sniffed_megabyte_is_not_miscounted(tmp_path):
    path = tmp_path / "long_names.csv"
    names = ",".join(f"{'n' * 600}{i}" for i in range(1900))  # 1.1 MB, under 2,000 columns
    path.write_text(names + "\n" + ",".join("1" * 1900) + "\n")
    with pytest.raises(DataFileError, match="The first row is longer than 1 MB"):
        profile_table(path)


def test_the_time_limit_stops_a_read_that_takes_too_long(tmp_path):
    path = _csv(tmp_path / "slow.csv", rows=50_000)
    with pytest.raises(LimitExceeded, match="took longer than 0 seconds, the limit"):
        with guarded(ReadLimits(seconds=0)):
            profile_table(path)
    assert _leftovers(tmp_path) == []


def test_the_decompressed_bytes_are_counted_as_they_come(tmp_path):
    text = _csv(tmp_path / "t.csv", rows=300_000).read_bytes()
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(text))
    (tmp_path / "t.csv").unlink()
    with pytest.raises(LimitExceeded, match=r"gzip file expands past 2 MB .*the limit is 2 MB"):
        with guarded(ReadLimits(decompressed_bytes=2 << 20)):
            profile_table(path)
    assert _leftovers(tmp_path) == []


def test_the_expansion_ratio_is_judged_on_the_bytes_read_so_far(tmp_path):
    path = tmp_path / "zeros.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"0,0\n" * 2_000_000))
    limits = ReadLimits(expansion_ratio=50, ratio_after_bytes=1 << 20)
    with pytest.raises(LimitExceeded, match="expands more than 50 times .*the limit is 50 times"):
        with guarded(limits):
            profile_table(path)
    # The same file is read when its ratio is within the limit.
    with guarded(ReadLimits(expansion_ratio=5000, ratio_after_bytes=1 << 20)):
        assert profile_table(path).rows == 2_000_000


def test_a_parquet_file_past_the_row_limit_is_refused_before_a_row_is_read(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(5000))}), path)
    seen = []

    class Counting(Visitor):
        def __init__(self, info, schema):
            pass

        def add(self, batch):
            seen.append(batch.num_rows)

    with pytest.raises(LimitExceeded, match="more than 1,000 rows"):
        with guarded(ReadLimits(rows=1000)):
            scan_table(path, visitor_factory=Counting)
    assert seen == []


def _workbook(path: Path, rows: int) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b"])
    for i in range(rows):
        sheet.append([i, i * 2])
    book.save(path)
    return path


def test_a_sheet_past_the_row_limit_stops_while_it_is_rewritten(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", rows=5000)
    with pytest.raises(LimitExceeded, match="has more than 1,000 rows, the most PROMISE reads"):
        with guarded(ReadLimits(rows=1000)):
            profile_table(path)
    assert _leftovers(tmp_path) == []


def test_the_workbook_xml_is_counted_as_openpyxl_reads_it(tmp_path, monkeypatch):
    path = _workbook(tmp_path / "book.xlsx", rows=20_000)
    checks = []
    real = limits_module.Guard.check_bytes

    def spy(self, out, compressed, **kwargs):
        checks.append((kwargs["what"], out, compressed))
        return real(self, out, compressed, **kwargs)

    monkeypatch.setattr(limits_module.Guard, "check_bytes", spy)
    with guarded(ReadLimits()):
        assert profile_table(path).rows == 20_000
    streamed = [out for what, out, compressed in checks if what == "workbook" and compressed]
    # The sheet's XML passed through the meter in pieces, not only the declared sizes.
    assert len(streamed) > 10 and max(streamed) > 500_000


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_read_no_longer_wanted_stops_quietly_and_leaves_nothing(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(limits_module, "WANTED_CHECK_SECONDS", 0)
    if kind == "csv":
        path = _csv(tmp_path / "gone.csv", rows=200_000)
    else:
        path = _workbook(tmp_path / "gone.xlsx", rows=10_000)
    asked = []

    def wanted() -> bool:
        asked.append(1)
        return False

    with pytest.raises(ReadAbandoned):
        with guarded(ReadLimits(), still_wanted=wanted):
            profile_table(path)
    assert asked and _leftovers(tmp_path) == []


def test_a_read_run_again_removes_what_its_crashed_predecessor_left(tmp_path):
    path = _csv(tmp_path / "t.csv", rows=100)
    dead = 4_000_000
    while os.path.exists(f"/proc/{dead}"):
        dead += 1
    crashed = [
        tmp_path / f".t.csv.0123456789ab.parquet.{host_name()}-{dead}.partial",
        tmp_path / f".t.csv.abcdefgh.csv.{host_name()}-{dead}.partial",
    ]
    alive = tmp_path / f".t.csv.0123456789ab.parquet.{host_name()}-{os.getpid()}.partial"
    other = tmp_path / f".t.csv.0123456789ab.parquet.elsewhere-{dead}.partial"
    for leftover in [*crashed, alive, other]:
        leftover.write_bytes(b"x")
    profile_table(path)
    assert [p.exists() for p in [*crashed, alive, other]] == [False, False, True, True]
