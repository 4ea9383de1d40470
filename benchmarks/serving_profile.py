"""Where a single-row prediction's server time goes, in process, per family.

    .venv/bin/python benchmarks/serving_profile.py [--family linear] [--requests 3000]
        [--top 30]

The same models as benchmarks/serving.py (its `prepare`), in a var folder of its own; the
API's predict view called through Django's test client (the whole middleware stack and
DRF, no socket), each request a different row as in single_uncached, and the reference
view of benchmarks/serving.py. Prints one JSON
object: microseconds per request for each family, and for --family, cProfile's top
functions by cumulative time to stderr.
"""

import argparse
import cProfile
import functools
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.serving import FAMILIES, prepare  # noqa: E402


def timed(request, count: int) -> int:
    """Microseconds per call of `request(n)`, after 200 calls that warm the caches."""
    for n in range(200):
        request(n)
    started = time.perf_counter()
    for n in range(count):
        request(n)
    return round((time.perf_counter() - started) / count * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default=None, help="profile this family's requests")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="promise-serving-profile-"))
    key, ids, records = prepare(var)
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_HOST="127.0.0.1")

    def post(family: str, n: int) -> None:
        row = {**records[n % len(records)], "amount": 500 + n * 1e-3}
        response = client.post(
            f"/api/candidates/{ids[family]}/predict/",
            json.dumps({"rows": [row]}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]

    def ping(n: int) -> None:
        assert client.get("/bench/ping/").status_code == 200

    per_request = {"reference": timed(ping, args.requests)}
    for family in FAMILIES:
        per_request[family] = timed(functools.partial(post, family), args.requests)
    if args.family:
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(args.requests):
            post(args.family, n)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(args.top)
    print(json.dumps({"microseconds_per_request": per_request}))


if __name__ == "__main__":
    main()
