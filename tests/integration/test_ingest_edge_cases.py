"""Files at the edges of what ingest reads, through the real views, worker and commands."""

import io
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from django.urls import reverse
from django.utils.html import escape

from analysis.models import Dataset
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DEPTH = 100_000
DEEP_SENTENCE = (
    f"Line 3 nests arrays or objects {DEPTH + 1:,} levels deep; PROMISE reads at most 100: "
    "flatten that line's values, or remove the line."
)


def _deep_json_lines() -> bytes:
    # Written as text: json.dumps itself cannot nest this deep.
    deep = "[" * DEPTH + "]" * DEPTH
    lines = ['{"a": 1, "b": "x"}', '{"a": 2, "b": "y"}', f'{{"a": 3, "b": {deep}}}']
    return ("\n".join(lines) + "\n").encode()


def _profiled(client, name: str, content: bytes) -> Dataset:
    handle = io.BytesIO(content)
    handle.name = name
    response = client.post(reverse("dataset_upload"), {"file": handle})
    assert response.status_code == 302, response.content[:500]
    dataset = Dataset.objects.latest("created_at")
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status in ("ready", "failed"),
        timeout=60,
        what="the profile",
    )
    return Dataset.objects.get(pk=dataset.pk)


def test_it_shows_why_json_lines_nested_too_deep_cannot_be_read(celery_worker, owner_client):
    dataset = _profiled(owner_client, "deep.jsonl", _deep_json_lines())
    assert (dataset.status, dataset.error) == ("failed", DEEP_SENTENCE)
    page = owner_client.get(reverse("dataset_detail", args=[dataset.pk])).content.decode()
    assert escape(DEEP_SENTENCE) in page
    detail = owner_client.get(reverse("api_dataset_detail", args=[dataset.pk])).json()
    assert (detail["status"], detail["error"]) == ("failed", DEEP_SENTENCE)


def _command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "promise.settings"},
    )


@pytest.mark.parametrize(
    "args", [("profile_dataset",), ("discover", "--target", "a", "--budget", "10")]
)
def test_it_refuses_json_lines_nested_too_deep_on_the_command_line(tmp_path, args):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(_deep_json_lines())
    result = _command(*args, str(path))
    assert (result.returncode, result.stderr.strip()) == (2, DEEP_SENTENCE), result.stderr[-2000:]


class _PreviewTable(HTMLParser):
    """The header cells and body rows of the page's preview table."""

    def __init__(self):
        super().__init__()
        self.inside, self.cell = False, None
        self.headers: list[str] = []
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "preview") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("th", "td"):
            self.cell = ""

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        if self.inside and tag in ("th", "td"):
            (self.headers if tag == "th" else self.rows[-1]).append(self.cell)
            self.cell = None
        elif tag == "table":
            self.inside = False


# Neither alphabetical nor by length, which is how PostgreSQL's jsonb orders an object.
COLUMNS = ["zulu_wide", "alpha", "mike_x", "b"]


def test_it_previews_every_value_under_its_own_column(celery_worker, owner_client):
    rows = [[f"{name}-{i}" for name in COLUMNS[:-1]] + [1000 + i] for i in range(30)]
    text = ",".join(COLUMNS) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
    dataset = _profiled(owner_client, "order.csv", text.encode())
    assert dataset.status == "ready", dataset.error

    table = _PreviewTable()
    table.feed(owner_client.get(reverse("dataset_detail", args=[dataset.pk])).content.decode())
    body = [row for row in table.rows if row]
    assert table.headers == COLUMNS
    assert body[:3] == [[str(v) for v in row] for row in rows[:3]]
    detail = owner_client.get(reverse("api_dataset_detail", args=[dataset.pk])).json()
    assert [c["name"] for c in detail["profile"]["columns"]] == COLUMNS
    assert detail["profile"]["preview"][:2] == rows[:2]


def test_it_reads_quoted_header_names_as_pyarrow_does(celery_worker, owner_client, tmp_path):
    path = tmp_path / "quoted.csv"
    header = 'id;"first\nsecond";"say ""hi""; then go";flag\n'
    path.write_text(header + "".join(f'{i};"v\n{i}";w{i};{i % 2}\n' for i in range(40)))
    dataset = _profiled(owner_client, "quoted.csv", path.read_bytes())
    assert dataset.status == "ready", dataset.error
    expected = pacsv.read_csv(
        path, parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True)
    ).column_names
    assert [c["name"] for c in dataset.profile["columns"]] == expected
    assert dataset.row_count == 40
