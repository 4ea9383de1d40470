"""Serving benchmark: prediction latency at a stated rate under gunicorn, per family.

    .venv/bin/python benchmarks/serving.py [--seconds 15] [--clients 8] [--batch-rate 4]
        [--families linear,...] [--var DIR]

1. In a var folder of its own (SQLite; Redis at REDIS_URL, its serving keys cleared): a
   user with an API token, and one model per family fitted on a generated 2,000-row table
   (numbers with gaps, a 4-value and a 40-value category, a yes/no target), saved and
   compiled as training does, each stored as a candidate of one run.
2. gunicorn as `make run` starts it (benchmarks/serving_server.py: promise/gunicorn.py, two
   processes per core plus one, of 4 threads) on 127.0.0.1 with production settings (DEBUG
   off), plus one reference address: the cheapest authenticated JSON answer of the API
   (benchmarks/serving_urls.py).
3. `--clients` client processes with a kept-alive connection each (serving_load.py:
   processes, so the clients' own interpreter lock is not counted as server latency).

How the goals are read. With N clients that each wait for their answer (a closed loop),
mean latency is N / throughput: at 8 clients a P95 of 10 ms would need more than 800
requests/s, more than the reference view itself gives on 2 cores that it shares with the
clients. So the goal is read as the issue states it, a latency *at* a rate:
- reference: unpaced (each client sends as soon as it has its answer); its requests/s is
  the most the server gives, and the rate the others are paced against;
- single_uncached (one row, different every time) and single_cached (one row, always the
  same): first unpaced, whose requests/s is reported as "max_rps"; then paced (open
  loop: the clients together send at a fixed schedule) at 50% (uncached) or 60% (cached)
  of the reference's requests/s, "target_rps". Their P50/P95/P99 are those of the paced
  run, each latency counted from the request's scheduled time, so that a server falling
  behind shows as latency instead of as fewer requests ("coordinated omission"); "rps"
  is the rate achieved, below target_rps when the server could not keep up. The issue
  gives the LSTM a latency goal (P95 of 50 ms) but no rate: its Keras model costs about
  twice a compiled model's CPU, so 50% of the reference is about all it can give at all.
  It is paced at the same shares of its own max_rps instead ("paced_against": "own_max",
  the others' being "reference");
- batch_1000 (1,000 rows, never cached: answers for more than 100 rows are not): paced at
  `--batch-rate` batches/s for all clients together, 4 by default, i.e. 4,000 records/s
  or 14 million an hour scored through the API. A product sends batches like these from
  a scheduled job or a queue consumer; more than that is what file scoring (a worker
  task) is for. At that rate a batch rarely waits for another, so its latency is what one
  batch costs, which is what the goal of 50 ms is about.
"cached": a model's answers go through the Redis prediction cache only when computing
them costs more than the round trips (analysis/serving.py, SERVING_PREDICTION_CACHE_MIN_MS),
so for the compiled models single_cached measures the same row computed each time.

Each scenario also gives "server_cpu_ms": gunicorn's processes' CPU time over the scenario
divided by its requests, a cost per request that other work on the machine changes much
less than it changes latencies.

One JSON object goes to stdout: {"reference": S, "models": {family: {scenario: S}}}, each S
being {"p50_ms", "p95_ms", "p99_ms", "rps", "errors", "requests", "server_cpu_ms"} (with
"target_rps" and "max_rps" for the single-row scenarios), and the machine's load average.
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
OWN_PACE = ("lstm",)  # paced against their own most requests/s (see the docstring)
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


def at_share(
    server, key, request, share: float, reference_rps: float, args, own: bool = False
) -> dict:
    """The scenario paced at `share` of the reference's most requests/s (`own`: of its
    own), with its own most (unpaced) requests/s as max_rps."""
    most = measure(server, key, request, args.clients, args.seconds)
    target = round((most["rps"] if own else reference_rps) * share, 1)
    paced = measure(server, key, request, args.clients, args.seconds, rate=target)
    against = "own_max" if own else "reference"
    return {**paced, "target_rps": target, "max_rps": most["rps"], "paced_against": against}


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
                at_share,
                server,
                key,
                reference_rps=reference["rps"],
                args=args,
                own=family in OWN_PACE,
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
