"""`manage.py profile_dataset`: a profile on stdout, or one sentence on stderr and status 2."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import churn_frame

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    return subprocess.run(
        [sys.executable, "manage.py", "profile_dataset", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_prints_the_profile_as_json(tmp_path):
    path = tmp_path / "churn.csv"
    churn_frame(rows=80).to_csv(path, index=False)
    result = _run(path, "--json")
    profile = json.loads(result.stdout)
    assert (result.returncode, profile["rows"], len(profile["columns"])) == (0, 80, 6)
    assert "findings" in profile


def test_it_refuses_an_unreadable_file_with_one_sentence_and_status_2(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = _run(path, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "PNG image" in result.stderr and "Traceback" not in result.stderr


def test_it_retries_with_the_overrides(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("Quarterly export\nx;y\n" + "1,5;2\n" * 30)
    result = _run(path, "--json", "--header-row", "2", "--delimiter", ";", "--decimal", ",")
    profile = json.loads(result.stdout)
    assert [c["name"] for c in profile["columns"]] == ["x", "y"]
    assert profile["columns"][0]["kind"] == "constant" and profile["columns"][0]["min"] == 1.5


def test_it_says_when_there_is_no_file(tmp_path):
    result = _run(tmp_path / "nowhere.csv")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"There is no file at {tmp_path / 'nowhere.csv'}: check the path.",
    )
