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
import functools
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.serving_load import drive, warm_up  # noqa: E402
from benchmarks.serving_server import ROOT, Server, gunicorn, server_env  # noqa: E402

FAMILIES = ("linear", "decision_tree", "random_forest", "xgboost", "lstm")
UNCACHED_SHARE = 0.5  # of the reference's most requests/s: the goals
CACHED_SHARE = 0.6
BATCH_RATE = 4.0  # batches of 1,000 rows per second, all clients together


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


def measure(server: Server, key: str, request, clients: int, seconds: float, rate=None) -> dict:
    """drive()'s numbers, with the server's CPU time per request (ms) over the scenario."""
    cpu = server.cpu_seconds()
    found = drive(server.port, key, request, clients=clients, seconds=seconds, rate=rate)
    cpu = server.cpu_seconds() - cpu
    return {**found, "server_cpu_ms": round(cpu * 1000 / max(found["requests"], 1), 3)}


def at_share(server, key, request, share: float, reference_rps: float, args) -> dict:
    """The scenario paced at `share` of the reference's most requests/s, with its own most
    (unpaced) requests/s as max_rps."""
    most = measure(server, key, request, args.clients, args.seconds)
    target = round(reference_rps * share, 1)
    paced = measure(server, key, request, args.clients, args.seconds, rate=target)
    return {**paced, "target_rps": target, "max_rps": most["rps"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch-rate", type=float, default=BATCH_RATE)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--var", type=Path, default=None)
    args = parser.parse_args()
    var = args.var or Path(tempfile.mkdtemp(prefix="promise-serving-bench-"))
    key, ids, records = prepare(var)
    batch = json.dumps({"rows": (records * 2)[:1000]})
    one_row = json.dumps({"rows": [records[0]]})

    def ping(n):
        return "GET", "/bench/ping/", None

    with gunicorn(var) as server:
        warm_up(server.port, key, ping, args.clients)
        reference = measure(server, key, ping, args.clients, args.seconds)
        result = {"reference": reference, "models": {}}
        for family in args.families.split(","):
            path = f"/api/candidates/{ids[family]}/predict/"

            def uncached(n, path=path):
                row = {**records[n % len(records)], "amount": 500 + n * 1e-3}
                return "POST", path, json.dumps({"rows": [row]})

            def cached(n, path=path):
                return "POST", path, one_row

            def batch_1000(n, path=path):
                return "POST", path, batch

            warm_up(server.port, key, uncached, args.clients)
            share = functools.partial(
                at_share, server, key, reference_rps=reference["rps"], args=args
            )
            result["models"][family] = {
                "single_uncached": share(uncached, UNCACHED_SHARE),
                "single_cached": share(cached, CACHED_SHARE),
                "batch_1000": measure(
                    server, key, batch_1000, args.clients, args.seconds, rate=args.batch_rate
                ),
            }
        result["load_average"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
