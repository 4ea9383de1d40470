"""An S3-compatible server of the tests' own: moto's server mode, started as a process
on a free port with one empty bucket, and the storage settings that point at it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from tests.broker import _free_port

BUCKET = "promise-test"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_S3_REGION_NAME": "us-east-1",
}


@pytest.fixture
def s3_server(tmp_path):
    port = _free_port()
    binary = Path(sys.executable).with_name("moto_server")
    with (tmp_path / "moto.log").open("wb") as log:
        server = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(endpoint, timeout=5)
                break
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "moto.log").read_text()
                    pytest.fail(f"moto_server did not start:\n{log}")
                time.sleep(0.1)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:  # whatever failed, the server does not outlive the test
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def s3_storages(settings, endpoint: str) -> dict:
    """STORAGES with the default storage on the bucket (django-storages' S3 backend)."""
    options = {"bucket_name": BUCKET, "endpoint_url": endpoint, "file_overwrite": False}
    return {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
