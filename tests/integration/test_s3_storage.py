"""Files on an S3-compatible server: upload in pieces, profile, run, predict and export
with a real Celery worker, MEDIA_ROOT absent on both sides, every file in the bucket.

The server is moto's, started as a process (`moto_server`); the worker and this process
talk to it through django-storages as a deployment would. The worker has a broker of
its own (a private redis-server), so the session's worker, on local storage, never
takes these tasks.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from analysis import tokens
from analysis.models import CandidateResult, Run
from tests.broker import PrivateRedis, Worker, celery_app_on
from tests.conftest import churn_frame
from tests.s3_server import BUCKET, CREDENTIALS, s3_server, s3_storages  # noqa: F401
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_s3(s3_server, settings, monkeypatch, tmp_path):  # noqa: F811 (the fixture above)
    """This process and a worker on the bucket; the environment both are given."""
    endpoint, client = s3_server
    env = {
        **CREDENTIALS,
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "MEDIA_ROOT": str(tmp_path / "absent-media"),
        "PROMISE_FILE_CACHE_DIR": str(tmp_path / "cache"),
        "PROMISE_UPLOADS_DIR": str(tmp_path / "uploads"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = s3_storages(settings, endpoint)
    settings.MEDIA_ROOT = env["MEDIA_ROOT"]
    settings.FILE_CACHE_DIR = env["PROMISE_FILE_CACHE_DIR"]
    settings.UPLOADS_DIR = env["PROMISE_UPLOADS_DIR"]
    broker = PrivateRedis(tmp_path)
    broker.start()
    log_path = tmp_path / "worker.log"
    # Its environment is this one's: the bucket, the credentials, MEDIA_ROOT absent.
    worker = Worker(broker.url, str(connection.settings_dict["NAME"]), log_path)
    try:
        with celery_app_on(broker.url):
            worker.start()
            yield client, Path(env["MEDIA_ROOT"]), Path(env["PROMISE_FILE_CACHE_DIR"]), log_path
    finally:
        worker.stop()
        broker.stop()


def _json(response, status: int = 200):
    assert response.status_code == status, response.content[:500]
    return response.json()


def _keys(client) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_it_uploads_profiles_trains_predicts_and_exports_on_s3(on_s3, owner):
    client, media, cache, worker_log = on_s3
    _, key = tokens.token_create(owner=owner, name="s3")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    frame = churn_frame(rows=300)
    content = frame.to_csv(index=False).encode()

    opened = _json(
        api.post(
            reverse("api_upload_begin"),
            {"name": "churn.csv", "size": len(content)},
            content_type="application/json",
        ),
        201,
    )
    middle = len(content) // 2
    for offset, piece in ((0, content[:middle]), (middle, content[middle:])):
        api.put(f"{opened['url']}?offset={offset}", piece, content_type="application/octet-stream")
    dataset_id = _json(api.post(opened["finish_url"]), 201)["id"]

    detail = reverse("api_dataset_detail", args=[dataset_id])
    wait_for(lambda: api.get(detail).json()["status"] in ("ready", "failed"), timeout=60,
             what="the profile")  # fmt: skip
    assert api.get(detail).json()["status"] == "ready", worker_log.read_text()[-3000:]

    body = {"target": "churned", "time_budget": 10, "excluded_columns": ["customer_id"]}
    run = _json(
        api.post(
            reverse("api_run_start", args=[dataset_id]), body, content_type="application/json"
        ),
        201,
    )
    url = reverse("api_run_detail", args=[run["id"]])
    wait_for(lambda: api.get(url).json()["status"] not in Run.ACTIVE, timeout=300, what="the run")
    assert api.get(url).json()["status"] == "succeeded", worker_log.read_text()[-3000:]

    best = CandidateResult.objects.filter(run_id=run["id"], status="succeeded").first()
    row = frame.drop(columns=["churned"]).iloc[0].to_dict()
    predicted = _json(
        api.post(reverse("api_predict", args=[best.pk]), {"rows": [row]},
                 content_type="application/json")
    )  # fmt: skip
    assert predicted["predictions"][0] in ("yes", "no")

    exported = api.get(reverse("api_export_zip", args=[best.pk]))
    assert exported.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(exported.streaming_content)))
    assert any(name.endswith("train.py") for name in bundle.namelist())

    keys = _keys(client)
    prefix = f"runs/{run['id']}/"
    assert any(k.startswith("datasets/") and k.endswith("churn.csv") for k in keys), keys
    assert any(k.startswith("datasets/") and k.endswith(".parquet") for k in keys), keys
    assert f"{prefix}train.parquet" in keys and f"{prefix}holdout.parquet" in keys, keys
    assert any(k.startswith(f"{prefix}candidates/{best.name}/") for k in keys), keys
    assert best.model_dir.startswith(prefix), best.model_dir
    assert any(k.startswith("exports/") and k.endswith(".zip") for k in keys), keys
    assert not media.exists()
    # Every task's working folder was removed; what stays is the bounded cache of copies.
    assert list((cache / "scratch").iterdir()) == []
    assert (cache / "files" / prefix / "candidates" / best.name).is_dir()  # served from here
