"""Limits per user: over one, the page and the API say so with a sentence, and nothing is
created or stored (rows and files counted before and after)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Run, UserLimits

pytestmark = pytest.mark.django_db

TABLE = b"a,b\n1,2\n3,4\n"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _stored(media: Path) -> tuple[int, int, int, list[str]]:
    files = sorted(str(p) for p in media.rglob("*")) if media.is_dir() else []
    return Dataset.objects.count(), Run.objects.count(), CandidateResult.objects.count(), files


def _limit(owner, **fields) -> None:
    UserLimits.objects.update_or_create(user=owner, defaults=fields)


def test_the_page_refuses_a_file_over_the_users_largest_upload(owner, owner_client, media):
    _limit(owner, max_upload_bytes=10)
    before = _stored(media)
    response = owner_client.post(
        reverse("dataset_upload"), {"file": SimpleUploadedFile("t.csv", TABLE)}
    )
    assert response.status_code == 400
    assert "larger than the 10 bytes limit" in response.content.decode()
    assert _stored(media) == before


def test_the_api_refuses_a_file_past_the_storage_quota(owner, owner_client, media):
    _limit(owner, storage_quota_bytes=len(TABLE) + 5)
    first = owner_client.post(reverse("api_datasets"), {"file": SimpleUploadedFile("t.csv", TABLE)})
    assert first.status_code == 201
    before = _stored(media)
    second = owner_client.post(
        reverse("api_datasets"), {"file": SimpleUploadedFile("u.csv", TABLE)}
    )
    assert second.status_code == 413
    assert (
        "does not fit in your storage quota of 17 bytes: 5 bytes is left"
        in (second.json()["error"])
    )
    assert _stored(media) == before


def test_the_settings_give_the_default_limit(owner_client, media, settings):
    settings.PROMISE_STORAGE_QUOTA_BYTES = 5
    response = owner_client.post(
        reverse("api_datasets"), {"file": SimpleUploadedFile("t.csv", TABLE)}
    )
    assert response.status_code == 413 and not Dataset.objects.exists()


def test_a_chunked_upload_over_the_limit_is_refused_at_its_start(owner, owner_client, media):
    _limit(owner, max_upload_bytes=1000)
    response = owner_client.post(
        reverse("api_upload_begin"),
        {"name": "t.csv", "size": 1001},
        content_type="application/json",
    )
    assert response.status_code == 413 and "1,000 bytes limit" in response.json()["error"]
    assert _stored(media) == (0, 0, 0, [])


def test_open_uploads_count_against_the_quota(owner, owner_client, media):
    _limit(owner, storage_quota_bytes=100)
    begin = reverse("api_upload_begin")
    first = owner_client.post(begin, {"name": "a.csv", "size": 60}, content_type="application/json")
    assert first.status_code == 201
    second = owner_client.post(
        begin, {"name": "b.csv", "size": 60}, content_type="application/json"
    )
    assert second.status_code == 413
    assert len(list((media / "uploads" / str(owner.pk)).iterdir())) == 1


def test_a_chunk_past_a_lowered_limit_stops_the_upload_whole(owner, owner_client, media):
    opened = owner_client.post(
        reverse("api_upload_begin"), {"name": "t.csv", "size": len(TABLE)},
        content_type="application/json",
    ).json()  # fmt: skip
    url = opened["url"]
    assert (
        owner_client.put(
            f"{url}?offset=0", TABLE[:4], content_type="application/octet-stream"
        ).status_code
        == 200
    )
    _limit(owner, storage_quota_bytes=6)  # an administrator lowers it meanwhile
    refused = owner_client.put(
        f"{url}?offset=4", TABLE[4:], content_type="application/octet-stream"
    )
    assert refused.status_code == 413
    assert "storage quota" in refused.json()["error"]
    assert owner_client.get(url).status_code == 404  # nothing half-made is left
    assert list((media / "uploads" / str(owner.pk)).iterdir()) == []
    assert not Dataset.objects.exists()


def test_the_page_refuses_a_time_budget_over_the_ceiling(owner, owner_client, profiled_dataset):
    _limit(owner, max_time_budget=60)
    before = _stored(Path("/nonexistent"))
    response = owner_client.post(
        reverse("dataset_detail", args=[profiled_dataset.pk]),
        {"target": "b", "sample": "full", "time_budget": 61},
    )
    assert response.status_code == 400
    assert "over your limit of 60 seconds" in response.content.decode()
    assert _stored(Path("/nonexistent")) == before


def test_the_api_refuses_a_run_past_the_runs_at_once(owner, owner_client, profiled_dataset):
    _limit(owner, max_concurrent_runs=1)
    Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="training")
    before = _stored(Path("/nonexistent"))
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b"},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert "your limit is 1 run at once" in response.json()["error"]
    assert _stored(Path("/nonexistent")) == before


def test_a_retry_past_the_runs_at_once_is_refused(owner, owner_client, profiled_dataset):
    _limit(owner, max_concurrent_runs=1)
    failed = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="failed")
    Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="queued")
    response = owner_client.post(reverse("api_run_retry", args=[failed.pk]))
    assert response.status_code == 429 and Run.objects.count() == 2


def test_an_example_past_the_quota_is_refused_on_the_page_and_in_the_api(
    owner, owner_client, media
):
    _limit(owner, storage_quota_bytes=10)
    page = owner_client.post(reverse("example_create", args=["iris"]), follow=True)
    assert "storage quota" in page.content.decode()
    api = owner_client.post(reverse("api_example_create", args=["iris"]))
    assert api.status_code == 413
    # The example's table is written once, for every user; no dataset stores it.
    assert not Dataset.objects.exists() and not (media / "datasets").exists()


def test_another_users_limit_does_not_apply(owner, outsider, outsider_client, media):
    _limit(owner, max_upload_bytes=1)
    response = outsider_client.post(
        reverse("api_datasets"), {"file": SimpleUploadedFile("t.csv", TABLE)}
    )
    assert response.status_code == 201
