"""file_store on an S3-compatible server (moto's, as a process): the worker's cache is
bounded and spares copies in use, a working folder sends back only what changed, and
nothing is written under MEDIA_ROOT."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from analysis import file_store
from tests.s3_server import BUCKET, CREDENTIALS, s3_server, s3_storages  # noqa: F401


@pytest.fixture
def bucket(s3_server, settings, monkeypatch, tmp_path):  # noqa: F811 (the fixture above)
    endpoint, client = s3_server
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = s3_storages(settings, endpoint)
    settings.MEDIA_ROOT = str(tmp_path / "absent")
    settings.FILE_CACHE_DIR = str(tmp_path / "cache")
    yield client
    assert not (tmp_path / "absent").exists()


def _keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_it_reads_a_stored_file_through_a_local_copy(bucket):
    file_store.storage().save("datasets/1/a.csv", ContentFile(b"a\n1\n"))
    with file_store.local_copy("datasets/1/a.csv") as path:
        assert path.read_bytes() == b"a\n1\n"
    assert file_store.local_path("datasets/1/a.csv") is None


def test_it_evicts_the_least_recently_used_and_spares_a_copy_in_use(bucket, settings):
    for name in ("a", "b", "c"):
        file_store.storage().save(f"f/{name}", ContentFile(b"x" * 1000))
    with file_store.local_copy("f/a") as held:
        with file_store.local_copy("f/b"):
            pass
        with file_store.local_copy("f/c"):
            pass
        file_store.evict(limit=2000)
        assert held.exists()
    cached = sorted(p.name for p in (Path(settings.FILE_CACHE_DIR) / "files" / "f").iterdir())
    assert cached == ["a", "c"]  # b was the least recently used one not in use


def test_a_working_folder_sends_back_only_what_changed(bucket, settings):
    store = file_store.storage()
    store.save("runs/7/plan.json", ContentFile(b"{}"))
    store.save("runs/7/old.txt", ContentFile(b"old"))
    with file_store.working_folder("runs/7") as folder:
        assert (folder / "plan.json").read_bytes() == b"{}"
        # Another task stores its own candidate meanwhile: it must survive this one.
        store.save("runs/7/candidates/other/model.bin", ContentFile(b"other"))
        (folder / "candidates" / "mine").mkdir(parents=True)
        (folder / "candidates" / "mine" / "model.bin").write_bytes(b"mine")
        (folder / "old.txt").unlink()
    assert _keys(bucket) == {
        "runs/7/plan.json",
        "runs/7/candidates/other/model.bin",
        "runs/7/candidates/mine/model.bin",
    }
    assert list((Path(settings.FILE_CACHE_DIR) / "scratch").iterdir()) == []


def test_a_working_folder_that_fails_stores_nothing(bucket):
    with pytest.raises(RuntimeError), file_store.working_folder("runs/8") as folder:
        (folder / "half.bin").write_bytes(b"half")
        raise RuntimeError("the task failed")
    assert _keys(bucket) == set()


def test_delete_prefix_removes_every_object_under_it(bucket):
    for name in ("runs/9/a", "runs/9/b/c", "runs/90/a"):
        file_store.storage().save(name, ContentFile(b"x"))
    file_store.delete_prefix("runs/9")
    assert _keys(bucket) == {"runs/90/a"}


@pytest.mark.django_db
def test_cleanup_finds_stored_files_no_row_points_to_and_removes_them(bucket, owner):
    from analysis import leftovers
    from analysis.models import Dataset

    store = file_store.storage()
    dataset = Dataset(owner=owner, name="kept.csv", status="ready")
    dataset.file.save("kept.csv", ContentFile(b"a\n1\n"), save=True)
    for name in ("datasets/0/gone.csv", "exports/gone.zip", "runs/424242/plan.json"):
        store.save(name, ContentFile(b"x"))
    later = time.time() + 2 * leftovers.STALE_SECONDS
    assert leftovers.orphan_files() == []  # too recent: their rows may not be committed yet
    found = leftovers.orphan_files(now=later)
    assert sorted(str(f.path) for f in found) == [
        "datasets/0/gone.csv",
        "exports/gone.zip",
        "runs/424242",
    ]
    leftovers.remove(found)
    assert _keys(bucket) == {dataset.file.name}
