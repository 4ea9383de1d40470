"""Serving benchmark: prediction latency and throughput under gunicorn, per family.

    .venv/bin/python benchmarks/serving.py [--seconds 15] [--clients 8] [--var DIR]

1. In a var folder of its own (SQLite; Redis at REDIS_URL, its serving keys cleared): a
   user with an API token, and one model per family fitted on a generated 2,000-row table
   (numbers with gaps, a 4-value and a 40-value category, a yes/no target), saved and
   compiled as training does, each stored as a candidate of one run.
2. gunicorn as `make run` starts it (2 gthread workers of 4 threads) on 127.0.0.1 with
   production settings (DEBUG off), plus one reference address: the cheapest
   authenticated JSON answer of the API (benchmarks/serving_urls.py).
3. After a warm-up (until every process has the model loaded), for each scenario,
   `--clients` threads with a kept-alive connection each send requests
   for `--seconds`: `reference`; then per model `single_uncached` (one row, a different
   row each time), `single_cached` (one row, always the same) and `batch_1000` (1,000
   rows, never cached: answers for more than 100 rows are not).

One JSON object goes to stdout: {"reference": S, "models": {family: {scenario: S}}}, each S
being {"p50_ms", "p95_ms", "p99_ms", "rps", "errors"}, and the machine's load average.
"""

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("linear", "decision_tree", "random_forest", "xgboost", "lstm")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(var: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.serving_site",
        "PROMISE_VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        "DEBUG": "false",
        "SECRET_KEY": "serving-benchmark-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PROMISE_MANIFEST_STATIC": "false",  # the API serves no static files
        "PROMISE_API_USER_RATE": "none",
        "PYTHONPATH": str(ROOT),
    }


def prepare(var: Path) -> tuple[str, dict[str, int], list[dict]]:
    """Migrate, store a user, a token and one candidate per family; their ids, and rows."""
    os.environ.update(server_env(var))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import pandas as pd
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from analysis.automl.candidates import get_candidate
    from analysis.automl.candidates.base import assemble
    from analysis.automl.compiled import compile_model
    from analysis.automl.fitted import FittedModel
    from analysis.automl.preprocess import FeatureSpec, build_preprocessor, prepare_frame
    from analysis.models import CandidateResult, Dataset, Run
    from analysis.tokens import token_create

    call_command("migrate", verbosity=0)
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="serving:*", count=1000):
        client.delete(key)
    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    _, key = token_create(owner=user, name="benchmark")
    dataset = Dataset(owner=user, name="bench.csv", status=Dataset.Status.READY)
    dataset.file.save("bench.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    dataset.profile = {"rows": 1, "columns": [], "preview": []}
    dataset.save()
    run = Run.objects.create(owner=user, dataset=dataset, target="y", status="succeeded")

    rng = np.random.default_rng(0)
    rows = 2000
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "amount": rng.normal(1000, 300, size=rows),
            "plan": rng.choice(["basic", "plus", "pro", None], rows),
            "city": [f"city-{c}" for c in rng.integers(0, 40, rows)],
        }
    )
    frame.loc[::11, "x"] = np.nan
    y = ((frame["x"].fillna(0) * 3 + frame["amount"] / 100 + rng.normal(size=rows)) > 10) * 1
    spec = FeatureSpec(["x", "amount"], ["plan", "city"], [], high_cardinality=["city"])
    prepared = prepare_frame(frame, spec)
    preprocessor = build_preprocessor(spec, "binary").fit(prepared, y)
    inputs = preprocessor.transform(prepared)
    ids = {}
    for family in FAMILIES:
        candidate = get_candidate(family)
        estimator = candidate.build_estimator(
            candidate.default_params("binary"), task="binary", seed=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(inputs, y)
        pipeline = assemble(spec, preprocessor, estimator)
        model = FittedModel(family, "binary", "y", [0, 1], spec, pipeline)
        directory = var / "media" / "models" / family
        model.save(directory)
        record = compile_model(model, directory)
        print(f"{family}: compiled {record.get('onnx') or record.get('reason')}", file=sys.stderr)
        ids[family] = CandidateResult.objects.create(
            run=run, name=family, label=family, status="succeeded", model_dir=str(directory)
        ).pk
    records = json.loads(frame.to_json(orient="records"))
    return key, ids, records


def drive(port: int, key: str, requests, clients: int, seconds: float) -> dict:
    """`clients` threads send `requests()` (method, path, body) until `seconds` pass."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            method, path, body = requests()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            failed += not ok
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]).round(3).tolist()
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "rps": round(len(latencies) / elapsed, 1),
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--var", type=Path, default=None)
    args = parser.parse_args()
    var = args.var or Path(tempfile.mkdtemp(prefix="promise-serving-bench-"))
    key, ids, records = prepare(var)
    port = free_port()
    log = (var / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "promise.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", "2",
            "--threads", "4", "--keep-alive", "5", "--no-control-socket",
        ],
        cwd=ROOT, env=server_env(var), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_up(port, server, var)
        counter = itertools.count()
        warm_up(port, key, lambda: ("GET", "/bench/ping/", None), args.clients)
        result = {
            "reference": drive(
                port, key, lambda: ("GET", "/bench/ping/", None), args.clients, args.seconds
            ),
            "models": {},
        }
        batch = json.dumps({"rows": (records * 2)[:1000]})
        one_row = json.dumps({"rows": [records[0]]})
        for family, pk in ids.items():
            path = f"/api/candidates/{pk}/predict/"

            def uncached(path=path):
                n = next(counter)
                row = {**records[n % len(records)], "amount": 500 + n * 1e-3}
                return "POST", path, json.dumps({"rows": [row]})

            def cached(path=path):
                return "POST", path, one_row

            warm_up(port, key, uncached, args.clients)
            result["models"][family] = {
                "single_uncached": drive(port, key, uncached, args.clients, args.seconds),
                "single_cached": drive(port, key, cached, args.clients, args.seconds),
                "batch_1000": drive(
                    port, key, lambda p=path: ("POST", p, batch), args.clients, args.seconds
                ),
            }
        result["load_average"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def warm_up(port: int, key: str, requests, clients: int) -> None:
    """Send requests until every web process has the model loaded (no request of a second
    takes over a second: loading the LSTM's Keras takes seconds), at most 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if drive(port, key, requests, clients, 1.0)["p99_ms"] < 1000:
            return


def wait_until_up(port: int, server, var: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    server.kill()
    sys.exit(f"gunicorn did not start:\n{(var / 'gunicorn.log').read_text()[-3000:]}")


if __name__ == "__main__":
    main()
