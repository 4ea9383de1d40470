"""`manage.py cleanup`: orphans both ways. Files no row points to (scored files, a deleted
user's uploads) and rows whose files are gone (datasets, exports, scoring jobs, sampled
runs) are listed by --dry-run and removed by cleanup."""

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from analysis import leftovers
from analysis.models import BatchPrediction, CandidateResult, Dataset, Export, Run
from analysis.storage import run_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _aged(*paths: Path) -> None:
    hour_ago = time.time() - leftovers.STALE_SECONDS - 60
    for path in paths:
        os.utime(path, (hour_ago, hour_ago))


@pytest.fixture
def world(owner, media):
    """A whole dataset with a sampled run, an export and a scored file, and one of each
    row whose file is gone, and files whose rows are gone."""
    dataset = Dataset(owner=owner, name="kept.csv", status="ready")
    dataset.file.save("kept.csv", ContentFile(b"a\n1\n"), save=True)
    run = Run.objects.create(owner=owner, dataset=dataset, target="a", status="succeeded", plan={})
    run_dir(run).mkdir(parents=True)
    lost_run = Run.objects.create(
        owner=owner, dataset=dataset, target="a", status="failed", plan={}
    )
    queued = Run.objects.create(owner=owner, dataset=dataset, target="a")  # no folder yet
    candidate = CandidateResult.objects.create(
        run=run, name="linear", label="L", status="succeeded"
    )
    export = Export(owner=owner, candidate=candidate)
    export.file.save("kept.zip", ContentFile(b"zip"), save=True)
    lost_export = Export.objects.create(owner=owner, candidate=candidate, file="exports/gone.zip")
    lost_batch = BatchPrediction.objects.create(
        owner=owner, candidate=candidate, name="x.csv", input_file="predictions/in/gone.csv"
    )
    lost_dataset = Dataset.objects.create(owner=owner, name="gone.csv", file="datasets/1/gone.csv")
    stray_scored = media / "predictions" / "out" / "stray.csv"
    stray_scored.parent.mkdir(parents=True)
    stray_scored.write_bytes(b"a\n")
    stray_uploads = media / "uploads" / "999999"
    stray_uploads.mkdir(parents=True)
    (stray_uploads / "data").write_bytes(b"a,b")
    _aged(stray_scored, stray_uploads)
    return {
        "kept": [dataset, run, queued, export],
        "lost": [lost_run, lost_export, lost_batch, lost_dataset],
        "stray": [stray_scored, stray_uploads],
    }


def _exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_a_dry_run_lists_both_ways_and_removes_nothing(world):
    out = StringIO()
    call_command("cleanup", "--dry-run", stdout=out)
    listed = out.getvalue()
    for row in world["lost"]:
        assert f"Would delete the row without its files: {type(row).__name__} {row.pk}:" in listed
    for path in world["stray"]:
        assert f"Would remove {path}" in listed
    for row in world["kept"]:
        assert f"{type(row).__name__} {row.pk}:" not in listed
    assert all(_exists(row) for row in world["lost"] + world["kept"])
    assert all(path.exists() for path in world["stray"])


def test_cleanup_removes_both_ways_and_keeps_the_whole(world):
    call_command("cleanup", stdout=StringIO())
    assert [row for row in world["lost"] if _exists(row)] == []
    assert [path for path in world["stray"] if path.exists()] == []
    assert all(_exists(row) for row in world["kept"])
    assert Path(world["kept"][3].file.path).exists()


def test_nothing_is_deleted_when_the_media_folder_is_missing(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "unmounted")
    call_command("cleanup", stdout=StringIO())
    assert all(_exists(row) for row in world["lost"])
