"""Partial files of crashed work and orphan files: recognised, listed, removed."""

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from analysis import leftovers
from analysis.automl.ingest.scratch import host_name, partial_owner, partial_path
from analysis.models import Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _dead_pid() -> int:
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


def test_a_partial_name_says_which_host_and_process_wrote_it(tmp_path):
    path = partial_path(tmp_path / ".data.csv.0123456789ab.parquet")
    assert partial_owner(path.name) == (host_name(), os.getpid())
    assert partial_owner("data.csv") is None


def test_only_partials_of_gone_or_silent_writers_are_stale(media):
    folder = media / "datasets" / "1"
    folder.mkdir(parents=True)
    here = host_name()
    dead = folder / f".a.csv.0123456789ab.parquet.{here}-{_dead_pid()}.partial"
    live = folder / f".b.csv.0123456789ab.parquet.{here}-{os.getpid()}.partial"
    elsewhere = folder / f".c.csv.0123456789ab.parquet.otherhost-{os.getpid()}.partial"
    silent = folder / ".d.csv.0123456789ab.parquet.otherhost-12.partial"
    for path in (dead, live, elsewhere, silent):
        path.write_bytes(b"x" * 10)
    hour_ago = time.time() - leftovers.STALE_SECONDS - 60
    os.utime(silent, (hour_ago, hour_ago))

    stale = {leftover.path for leftover in leftovers.stale_partials()}

    assert stale == {dead, silent}


def test_cleanup_lists_with_dry_run_then_removes_orphans_and_keeps_what_rows_use(media, owner):
    dataset = Dataset(owner=owner, name="kept.csv", status=Dataset.Status.READY)
    dataset.file.save("kept.csv", ContentFile(b"a,b\n1,2\n"), save=True)
    kept = Path(dataset.file.path)
    kept_copy = kept.with_name(f".{kept.name}.0123456789ab.parquet")
    kept_copy.write_bytes(b"PAR1")
    orphan = kept.with_name("gone.csv")
    orphan.write_bytes(b"a\n1\n")
    orphan_copy = kept.with_name(".gone2.csv.0123456789ab.parquet")
    orphan_copy.write_bytes(b"PAR1")
    crashed = kept.with_name(f".kept.csv.xyz.csv.{host_name()}-{_dead_pid()}.partial")
    crashed.write_bytes(b"a,b\n")
    run = Run.objects.create(owner=owner, dataset=dataset, target="a")
    (media / "runs" / str(run.pk)).mkdir(parents=True)
    (media / "runs" / "999999").mkdir()
    missing = Dataset(owner=owner, name="missing.csv", file="datasets/1/missing.csv")
    missing.save()
    fresh = kept.with_name("just_moved_in.csv")  # its dataset's row is not committed yet
    fresh.write_bytes(b"a\n1\n")
    hour_ago = time.time() - leftovers.STALE_SECONDS - 60
    for path in (orphan, orphan_copy, media / "runs/999999"):
        os.utime(path, (hour_ago, hour_ago))

    out = StringIO()
    call_command("cleanup", "--dry-run", stdout=out)
    listed = out.getvalue()
    assert all(str(p) in listed for p in (orphan, orphan_copy, crashed, media / "runs/999999"))
    assert f"Dataset {missing.pk}: datasets/1/missing.csv is missing" in listed
    assert str(kept) + " " not in listed and str(kept_copy) not in listed
    assert orphan.exists() and crashed.exists()  # a dry run removes nothing

    call_command("cleanup", stdout=StringIO())
    assert not any(p.exists() for p in (orphan, orphan_copy, crashed, media / "runs/999999"))
    assert kept.exists() and kept_copy.exists() and (media / "runs" / str(run.pk)).exists()
    assert fresh.exists()
