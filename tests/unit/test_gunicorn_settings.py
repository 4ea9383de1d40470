"""gunicorn's settings (promise/gunicorn.py): it keeps an idle connection open longer than
a page waits between two polls, or a poll may be sent on a connection that gunicorn is
closing and fail; its processes follow the cores and the memory."""

import re
from pathlib import Path

from promise import gunicorn as gunicorn_settings

ROOT = Path(__file__).resolve().parents[2]


def _polling_seconds() -> list[float]:
    found = []
    for template in (ROOT / "templates").rglob("*.html"):
        for value, unit in re.findall(r"every (\d+(?:\.\d+)?)(ms|s)\b", template.read_text()):
            found.append(float(value) / (1000 if unit == "ms" else 1))
    return found


def test_it_keeps_connections_open_longer_than_the_pages_poll():
    web = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    assert "-c python:promise.gunicorn" in web
    keep_alive = gunicorn_settings.keepalive
    polling = _polling_seconds()
    assert polling, "no polling found in the templates: the test looks in the wrong place"
    assert keep_alive > max(polling), (keep_alive, polling)


def test_it_runs_two_processes_per_core_plus_one_as_memory_allows(monkeypatch):
    gib = 1024**3
    page = 4096
    monkeypatch.setattr(gunicorn_settings.os, "sched_getaffinity", lambda pid: {0, 1})
    for memory, expected in ((24 * gib, 5), (6 * gib, 3), (1 * gib, 1)):
        sizes = {"SC_PHYS_PAGES": memory // page, "SC_PAGE_SIZE": page}
        monkeypatch.setattr(gunicorn_settings.os, "sysconf", sizes.__getitem__)
        assert gunicorn_settings._default_workers() == expected, memory
