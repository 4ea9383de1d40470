"""Profiling a dataset runs under the settings' read limits, says so in a sentence, and
stops quietly, leaving no copy, when the dataset is deleted during the read."""

from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile

from analysis import services
from analysis.automl.ingest import limits as limits_module
from analysis.automl.profile import profile_table
from analysis.models import Dataset
from analysis.services import datasets as dataset_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(owner, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dataset = Dataset(owner=owner, name="t.csv")
    rows = "".join(f"{i},{i % 3}\n" for i in range(200_000))
    dataset.file.save("t.csv", ContentFile(("a,b\n" + rows).encode()), save=True)
    return dataset


def test_the_settings_row_limit_fails_the_dataset_with_a_sentence(uploaded, settings):
    settings.PROMISE_MAX_ROWS = 1000
    services.dataset_profile(dataset_id=uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "failed"
    assert uploaded.error.startswith("The file has more than 1,000 rows, the most PROMISE reads")


def test_celerys_time_limit_ends_in_the_same_kind_of_sentence(uploaded, settings, monkeypatch):
    settings.PROMISE_MAX_PROFILE_SECONDS = 600

    def too_long(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(dataset_services, "profile_table", too_long)
    services.dataset_profile(dataset_id=uploaded.pk)
    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.error) == (
        "failed",
        "Reading the file took longer than 10 minutes, the limit for reading one file: "
        "upload a smaller part of it, or save it as Parquet, which reads faster.",
    )


def test_a_dataset_deleted_during_its_read_stops_it_and_leaves_no_copy(
    uploaded, monkeypatch, caplog
):
    caplog.set_level("INFO", logger="analysis.services.datasets")
    monkeypatch.setattr(limits_module, "WANTED_CHECK_SECONDS", 0)
    source = Path(uploaded.file.path)
    reads = []

    def deleted_meanwhile(path, **kwargs):
        Dataset.objects.filter(pk=uploaded.pk).delete()  # as the delete page does
        reads.append(path)
        return profile_table(path, **kwargs)

    monkeypatch.setattr(dataset_services, "profile_table", deleted_meanwhile)
    services.dataset_profile(dataset_id=uploaded.pk)
    assert reads == [source]
    assert f"Dataset {uploaded.pk} was deleted while it was read: reading stopped" in caplog.text
    assert sorted(p.name for p in source.parent.iterdir()) == [source.name]
