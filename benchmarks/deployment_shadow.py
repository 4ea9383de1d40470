"""What shadow mode costs the champion: deployment predictions under gunicorn, the champion
alone (split 0) against the champion with the challenger shadowed on every request.

    .venv/bin/python benchmarks/deployment_shadow.py [--seconds 10] [--var DIR]

The models and the user are benchmarks/serving.py's; gunicorn is serving_server.py's
(production settings, promise/gunicorn.py); the 8 clients are serving_load.py's
client processes, unpaced. The champion is the decision tree; the challengers are the
random forest and the LSTM (the slowest to answer). Requests are one uncached row to
POST /api/deployments/<id>/predict/, for `--seconds` per scenario:
- 1_client_interleaved: one kept-alive client alternating between a deployment rolled
  back (the champion alone) and one in shadow mode (the champion answers, the challenger
  is asked the same row on the web process's background thread), so that a busy machine
  weighs on both alike;
- 8_clients: 8 clients on the deployment rolled back, then on it in shadow mode;
- side_calls: how many side calls were made and skipped (queue full), and how long after
  the last scenario the last one was counted.
One JSON object goes to stdout; S is serving.py's {"p50_ms", "p95_ms", "p99_ms", "rps",
"errors"} (requests instead of rps when interleaved).
"""

import argparse
import http.client
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.serving import prepare  # noqa: E402
from benchmarks.serving_load import drive, warm_up  # noqa: E402
from benchmarks.serving_server import gunicorn  # noqa: E402

CHALLENGERS = ("random_forest", "lstm")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--var", type=Path, default=None)
    args = parser.parse_args()
    var = args.var or Path(tempfile.mkdtemp(prefix="promise-shadow-bench-"))
    key, ids, records = prepare(var)

    from analysis import deployment_metrics, deployments
    from analysis.models import CandidateResult

    champion = CandidateResult.objects.select_related("run__owner").get(pk=ids["decision_tree"])
    owner = champion.run.owner
    made = {
        name: deployments.deployment_create(
            owner=owner,
            name=f"tree vs {name}",
            champion=champion,
            challenger=CandidateResult.objects.get(pk=ids[name]),
        )
        for name in CHALLENGERS
    }
    alone_path = "/api/deployments/{}/predict/".format(
        deployments.deployment_create(
            owner=owner,
            name="tree alone",
            champion=champion,
            challenger=CandidateResult.objects.get(pk=ids["linear"]),
        ).pk
    )
    counter = itertools.count()
    result = {}
    with gunicorn(var) as server:
        port = server.port
        for name, deployment in made.items():
            path = f"/api/deployments/{deployment.pk}/predict/"

            def uncached(n, path=path):
                row = {**records[n % len(records)], "amount": 500 + n * 1e-3}
                return "POST", path, json.dumps({"rows": [row]})

            for arm in ("champion", "challenger"):  # every process loads both models
                body = json.dumps({"rows": records[:1], "arm": arm})
                warm_up(port, key, lambda n, p=path, b=body: ("POST", p, b), 8)
            deployments.deployment_change(deployment=deployment, by=owner, mode="shadow")
            before = deployment_metrics.summary(deployment.pk)
            result[name] = {"1_client_interleaved": interleaved(
                port, key, {"alone": alone_path, "shadow": path}, records, counter, args.seconds
            )}  # fmt: skip
            deployments.deployment_change(
                deployment=deployment, by=owner, mode="split", challenger_percent=0
            )
            alone = drive(port, key, uncached, clients=8, seconds=args.seconds)
            deployments.deployment_change(deployment=deployment, by=owner, mode="shadow")
            shadow = drive(port, key, uncached, clients=8, seconds=args.seconds)
            after, waited = _drained(deployment.pk)
            result[name]["8_clients"] = {"alone": alone, "shadow": shadow}
            result[name]["side_calls"] = {
                "shadowed": after["arms"]["challenger"]["shadowed"]
                - before["arms"]["challenger"]["shadowed"],
                "skipped": after["shadow"]["skipped"] - before["shadow"]["skipped"],
                "seconds_to_drain": waited,
            }
        result["load_average"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps(result, indent=2))


def interleaved(port: int, key: str, paths: dict, records, counter, seconds: float) -> dict:
    """One kept-alive client sending one-row requests to each path in turn for `seconds`:
    both see the same machine at the same moments, so a busy machine favours neither."""
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = {name: [] for name in paths}
    errors = dict.fromkeys(paths, 0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, path in paths.items():
            n = next(counter)
            row = {**records[n % len(records)], "amount": 500 + n * 1e-3}
            started = time.perf_counter()
            connection.request("POST", path, json.dumps({"rows": [row]}), headers)
            response = connection.getresponse()
            response.read()
            latencies[name].append((time.perf_counter() - started) * 1000)
            errors[name] += response.status != 200
    connection.close()
    return {
        name: {
            **dict(
                zip(
                    ("p50_ms", "p95_ms", "p99_ms"),
                    np.percentile(found, [50, 95, 99]).round(3).tolist(),
                    strict=True,
                )
            ),
            "requests": len(found),
            "errors": errors[name],
        }  # fmt: skip
        for name, found in latencies.items()
    }


def _drained(deployment_id: int) -> tuple[dict, float]:
    """The numbers once the side calls queued during the scenario are done (the count of
    shadowed requests stops growing for 2 s), and how long after the scenario that was."""
    from analysis import deployment_metrics

    started = time.monotonic()
    last, steady_since = None, time.monotonic()
    while time.monotonic() - started < 120:
        numbers = deployment_metrics.summary(deployment_id)
        count = numbers["arms"]["challenger"]["shadowed"]
        if count != last:
            last, steady_since = count, time.monotonic()
        elif time.monotonic() - steady_since >= 2:
            break
        time.sleep(0.2)
    return numbers, round(steady_since - started, 1)


if __name__ == "__main__":
    main()
