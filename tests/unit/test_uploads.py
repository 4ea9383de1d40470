"""Chunked, resumable uploads through the API, as the browser and scripts use it.

No worker here: profiling is not run.
"""

import base64
import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from analysis.models import Dataset
from analysis.uploads import UPLOAD_EXPIRY

pytestmark = pytest.mark.django_db

CONTENT = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(5000))


SIZE = len(CONTENT)


def begin(client, size=SIZE, name="big.csv"):
    return client.post(
        reverse("api_upload_begin"), {"name": name, "size": size}, content_type="application/json"
    )


def put(client, url, offset, piece):
    return client.put(f"{url}?offset={offset}", piece, content_type="application/octet-stream")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def script_client(owner) -> Client:
    """A script: HTTP basic auth, no session, and CSRF checks as in production."""
    token = base64.b64encode(b"owner:owner-pass-123").decode()
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Basic {token}")


def test_it_assembles_pieces_into_a_dataset_without_a_second_copy(owner_client, owner, media):
    url = begin(owner_client).json()["url"]
    middle = len(CONTENT) // 2
    assert put(owner_client, url, 0, CONTENT[:middle]).json()["offset"] == middle
    assert put(owner_client, url, middle, CONTENT[middle:]).json()["offset"] == len(CONTENT)

    response = owner_client.post(url + "finish/")

    assert response.status_code == 201
    dataset = Dataset.objects.get(owner=owner)
    assert response.json()["url"] == reverse("dataset_detail", args=[dataset.pk])
    assert Path(dataset.file.path).read_bytes() == CONTENT
    assert dataset.name == "big.csv" and dataset.size_bytes == len(CONTENT)
    assert not any((media / "uploads").rglob("data")), "the upload folder was left behind"


def test_it_tells_a_resuming_browser_how_many_bytes_it_has(owner_client, media):
    url = begin(owner_client).json()["url"]
    put(owner_client, url, 0, CONTENT[:1000])

    assert owner_client.get(url).json()["offset"] == 1000


def test_it_refuses_a_piece_at_the_wrong_offset_and_says_where_to_go_on(owner_client, media):
    url = begin(owner_client).json()["url"]
    put(owner_client, url, 0, CONTENT[:1000])

    response = put(owner_client, url, 0, CONTENT[:1000])  # sent twice after a lost answer

    assert response.status_code == 409
    assert response.json()["offset"] == 1000
    assert owner_client.get(url).json()["offset"] == 1000


def test_it_refuses_a_file_over_the_size_limit_before_any_byte_is_sent(
    owner_client, media, settings
):
    settings.PROMISE_MAX_UPLOAD_BYTES = 5 * 1024**2

    response = begin(owner_client, size=6 * 1024**2)

    assert response.status_code == 413
    assert "larger than the 5 MB limit" in response.json()["error"]


def test_it_refuses_bytes_past_the_declared_size(owner_client, media):
    url = begin(owner_client, size=10).json()["url"]

    response = put(owner_client, url, 0, b"x" * 11)

    assert response.status_code == 413


def test_it_refuses_to_finish_an_incomplete_upload(owner_client, media):
    url = begin(owner_client).json()["url"]
    put(owner_client, url, 0, CONTENT[:10])

    response = owner_client.post(url + "finish/")

    assert response.status_code == 409
    assert not Dataset.objects.exists()


def test_it_refuses_an_empty_file(owner_client, media):
    response = begin(owner_client, size=0)

    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_it_hides_an_upload_from_another_user(owner_client, outsider_client, media):
    url = begin(owner_client).json()["url"]

    assert outsider_client.get(url).status_code == 404
    assert put(outsider_client, url, 0, CONTENT[:10]).status_code == 404


def test_it_answers_404_for_a_made_up_upload_id(owner_client, media):
    response = owner_client.get(reverse("api_upload_detail", args=["..%2F..%2Fetc"]))

    assert response.status_code == 404


def test_a_script_uploads_in_pieces_with_basic_auth_and_gets_the_dataset(
    script_client, owner, media
):
    opened = begin(script_client)
    assert opened.status_code == 201, opened.content
    url, finish_url = opened.json()["url"], opened.json()["finish_url"]
    for start in range(0, SIZE, 10_000):
        assert put(script_client, url, start, CONTENT[start : start + 10_000]).status_code == 200

    response = script_client.post(finish_url)

    assert response.status_code == 201
    dataset = Dataset.objects.get(owner=owner)
    assert response.json()["id"] == dataset.pk and response.json()["name"] == "big.csv"
    assert Path(dataset.file.path).read_bytes() == CONTENT


def test_it_asks_a_script_without_credentials_to_authenticate(media):
    response = begin(Client())

    assert response.status_code in (401, 403)
    assert not (media / "uploads").exists()


def test_it_refuses_a_begin_that_is_not_json(owner_client, media):
    response = owner_client.post(
        reverse("api_upload_begin"), "size=3", content_type="application/json"
    )

    assert response.status_code == 400
    assert "name" in response.json()["error"]


def test_opening_an_upload_removes_the_owners_abandoned_ones(owner_client, media):
    stale, fresh = begin(owner_client).json()["url"], begin(owner_client).json()["url"]
    put(owner_client, stale, 0, CONTENT[:100])
    stale_data = next(p for p in (media / "uploads").rglob("data") if p.stat().st_size == 100)
    past = stale_data.stat().st_mtime - UPLOAD_EXPIRY - 60
    os.utime(stale_data, (past, past))

    begin(owner_client)

    assert owner_client.get(stale).status_code == 404
    assert owner_client.get(fresh).status_code == 200
