"""Serving under gunicorn as `make run` starts it (two processes of four threads): requests
that arrive together load the model once per process, every process adds to the same
numbers, and clearing the caches makes each process load the model again."""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from analysis import serving_metrics
from analysis.automl.compiled import compile_model
from analysis.models import CandidateResult, Run
from tests.unit.test_compiled import fitted

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web(tmp_path):
    """gunicorn with two gthread workers on the test database; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PROMISE_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "promise.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
            "--workers", "2", "--threads", "4", "--no-control-socket",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/serving/metrics/", timeout=10)
        except urllib.error.HTTPError:
            break  # 401: it answers
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail((tmp_path / "gunicorn.log").read_text()[-3000:])
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()


def _forget_serving_keys():
    serving_metrics.reset()  # this process's numbers not yet sent too
    r = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(r.scan_iter(match="serving:*", count=1000))
    if keys:
        r.delete(*keys)


def call(url: str, user: str, password: str, *, body=None) -> tuple[int, dict]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_processes_load_once_share_the_numbers_and_all_hear_the_clear(
    web, tmp_path, django_user_model, profiled_dataset, owner
):
    _forget_serving_keys()
    owner.set_password("owner-pass-123")
    owner.save()
    django_user_model.objects.create_user("staff", password="staff-pass-123", is_staff=True)
    model, holdout = fitted("random_forest", "binary")
    model.save(tmp_path / "model")
    compile_model(model, tmp_path / "model")
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")
    candidate = CandidateResult.objects.create(
        run=run,
        name="random_forest",
        label="Random Forest",
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=str(tmp_path / "model"),
    )
    predict_url = f"{web}/api/candidates/{candidate.pk}/predict/"
    rows = json.loads(holdout.to_json(orient="records"))

    def ask(n: int) -> int:
        row = {**rows[n % len(rows)], "x": n / 7}  # every request a question of its own
        return call(predict_url, "owner", "owner-pass-123", body={"rows": [row]})[0]

    def numbers(requests: int) -> dict:
        """The model's numbers once they count `requests` (each process sends its own
        every serving_metrics.FLUSH_SECONDS)."""
        deadline = time.monotonic() + 10
        while True:
            status, body = call(f"{web}/api/serving/metrics/", "staff", "staff-pass-123")
            assert status == 200, body
            found = next((m for m in body["models"] if m["candidate"] == candidate.pk), {})
            if found.get("requests") == requests or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(ask, range(REQUESTS))) == {200}
    first = numbers(REQUESTS)
    assert (first["requests"], first["errors"], first["cache_hits"]) == (REQUESTS, 0, 0)
    assert first["latency_samples"] == REQUESTS and first["latency_ms"]["p99"] > 0
    assert 1 <= len(first["loaded_in"]) <= 2
    assert all(p["loads"] == 1 and p["path"] == "onnx" for p in first["loaded_in"])
    assert all(p["bytes"] > 0 for p in first["loaded_in"])

    assert ask(0) == 200  # asked before: answered from Redis whichever process takes it
    assert numbers(REQUESTS + 1)["cache_hits"] == 1

    status, cleared = call(f"{web}/api/serving/clear/", "staff", "staff-pass-123", body={})
    assert status == 200 and cleared["cached_answers_removed"] == REQUESTS
    time.sleep(1.5)  # each process reads the caches' generation at most once a second
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(ask, range(REQUESTS))) == {200}
    after = numbers(2 * REQUESTS + 1)
    assert after["cache_hits"] == 1  # the same questions again, but the answers were cleared
    reloaded = [p for p in after["loaded_in"] if p["loads"] == 2]
    assert reloaded and all(p["loads"] <= 2 for p in after["loaded_in"])
