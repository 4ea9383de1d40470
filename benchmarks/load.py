"""A bounded loopback load on a whole PROMISE: web, worker, database and Redis, with faults counted.

    .venv/bin/python benchmarks/load.py [--clients 8] [--seconds 60]

Starts PROMISE as it runs in production on this machine (gunicorn with DEBUG off on
127.0.0.1, one Celery worker with two processes, Redis db 13, a SQLite database in a
folder of its own), gives each client a user of its own with one trained model, then
lets `--clients` threads mix for `--seconds`:

    upload     a small generated CSV through the API (multipart), its sha256 kept
    run        a discovery run on the client's newest ready upload (10 s budget, at most
               RUNS_PER_CLIENT per client, so the queue drains after the load)
    predict    one record through the API, on the client's own model
    page       the home, dataset and run pages, signed in
    probe      another user's dataset, run and model through the API and the pages:
               anything but 404 is a leak

After the load it waits until every dataset and run is in a final state, then prints one
JSON object: requests and latency per kind, `errors` (5xx, refused connections, or any
other answer than the one expected), `leaks`, `stuck` (datasets or runs not final after
STUCK_AFTER seconds), and `bytes_lost` (uploads whose stored file is missing or differs
from what was sent). The goal (issue 14): 0 of each.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.cookiejar
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_platform import ROOT, celery_worker, profiled_dataset, setup_django, wait  # noqa: E402

PORT = 8764
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "load-test-password-1"
RUNS_PER_CLIENT = 1
STUCK_AFTER = 600
# Relative frequency of each action in the mix.
MIX = {"page": 4, "predict": 4, "probe": 2, "upload": 1, "run": 1}


def table(rng: random.Random, rows: int = 300) -> bytes:
    """A CSV of `rows` rows: two numbers, a category and a target that depends on them."""
    lines = ["x,y,colour,target"]
    for _ in range(rows):
        x, y = rng.uniform(0, 10), rng.uniform(-5, 5)
        colour = rng.choice(["red", "green", "blue"])
        target = 2 * x - y + (3 if colour == "red" else 0) + rng.gauss(0, 1)
        lines.append(f"{x:.4f},{y:.4f},{colour},{target:.4f}")
    return ("\n".join(lines) + "\n").encode()


class Client:
    """One user's browser session (pages) and API credentials (basic auth)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cookies = http.cookiejar.CookieJar()
        self.browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        # The API is called as a script would: basic auth, no session cookie (which would
        # make the API ask for a CSRF token).
        self.script = urllib.request.build_opener()
        token = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def request(self, method: str, path: str, body=None, headers=None, api=True):
        """(status, seconds, body bytes); status 0 when the connection itself failed."""
        headers = {**(self.auth if api else {}), **(headers or {})}
        req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers)
        started = time.perf_counter()
        try:
            with (self.script if api else self.browser).open(req, timeout=60) as answer:
                return answer.status, time.perf_counter() - started, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, time.perf_counter() - started, exc.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, time.perf_counter() - started, b""

    def login(self) -> None:
        _, _, page = self.request("GET", "/accounts/login/", api=False)
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode(
            {"username": self.name, "password": PASSWORD, "csrfmiddlewaretoken": csrf}
        ).encode()
        status, _, _ = self.request(
            "POST", "/accounts/login/", form, {"Referer": BASE + "/accounts/login/"}, api=False
        )
        if status != 200:
            raise SystemExit(f"{self.name} could not sign in ({status}).")

    def upload(self, name: str, content: bytes):
        boundary = f"promise{random.getrandbits(64):x}"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        )
        body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", "/api/datasets/", body, headers)

    def post_json(self, path: str, data: dict):
        return self.request(
            "POST", path, json.dumps(data).encode(), {"Content-Type": "application/json"}
        )


class Tally:
    """Answers per kind, thread-safe; `expect` decides what counts as an error."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds = defaultdict(list)
        self.errors = defaultdict(list)
        self.leaks: list[str] = []

    def add(self, kind: str, status: int, seconds: float, expected: tuple[int, ...], what: str):
        with self.lock:
            self.seconds[kind].append(seconds)
            if status not in expected:
                self.errors[kind].append(f"{what}: {status}")
                if kind == "probe" and 200 <= status < 300:
                    self.leaks.append(what)

    def summary(self) -> dict:
        kinds = {}
        for kind, seconds in sorted(self.seconds.items()):
            ordered = sorted(seconds)
            kinds[kind] = {
                "requests": len(ordered),
                "errors": len(self.errors[kind]),
                "p50_ms": round(1000 * statistics.median(ordered), 1),
                "p95_ms": round(1000 * ordered[math.ceil(0.95 * len(ordered)) - 1], 1),
            }
        return kinds


def prepare_users(count: int, var: Path) -> list[dict]:
    """`count` users, each with a ready dataset and a finished run with a trained model."""
    from django.contrib.auth.models import User

    from analysis import services
    from analysis.models import Run

    users = []
    for index in range(count):
        user = User.objects.create_user(f"load{index}", password=PASSWORD)
        source = var / "seeds" / f"seed{index}.csv"
        source.parent.mkdir(exist_ok=True)
        source.write_bytes(table(random.Random(index)))
        dataset = profiled_dataset(user, source, var)
        run = services.run_start(owner=user, dataset=dataset, target="target", time_budget=10)
        users.append({"user": user, "dataset": dataset.pk, "run": run.pk})
    for entry in users:
        finished = Run.objects.filter(pk=entry["run"]).exclude(status__in=Run.ACTIVE)
        run = wait(finished.first, 600, "the seed runs")
        if run.status != Run.Status.SUCCEEDED:
            raise SystemExit(f"A seed run failed: {run.error}")
        entry["candidate"] = run.candidates.filter(status="succeeded").order_by("rank").first().pk
    return users


def client_loop(index: int, users: list[dict], tally: Tally, until: float, uploads: list):
    rng = random.Random(1000 + index)
    me, other = users[index], users[(index + 1) % len(users)]
    client = Client(f"load{index}")
    client.login()
    mine = {"datasets": [me["dataset"]], "runs": [me["run"]], "started": 0}
    actions = [kind for kind, weight in MIX.items() for _ in range(weight)]
    while time.monotonic() < until:
        kind = rng.choice(actions)
        if kind == "page":
            path = rng.choice(
                ["/", f"/datasets/{rng.choice(mine['datasets'])}/", f"/runs/{me['run']}/"]
            )
            tally.add(kind, *client.request("GET", path, api=False)[:2], (200,), path)
        elif kind == "predict":
            record = {"x": rng.uniform(0, 10), "y": rng.uniform(-5, 5), "colour": "red"}
            path = f"/api/candidates/{me['candidate']}/predict/"
            tally.add(kind, *client.post_json(path, {"rows": [record]})[:2], (200,), path)
        elif kind == "probe":
            for path, api in (
                (f"/api/datasets/{other['dataset']}/", True),
                (f"/api/runs/{other['run']}/", True),
                (f"/api/candidates/{other['candidate']}/", True),
                (f"/datasets/{other['dataset']}/", False),
                (f"/runs/{other['run']}/", False),
            ):
                status, seconds, _ = client.request("GET", path, api=api)
                tally.add(kind, status, seconds, (404,), f"{client.name} → {path}")
        elif kind == "upload":
            content = table(rng, rows=rng.randint(50, 400))
            status, seconds, body = client.upload(f"load-{index}-{len(uploads)}.csv", content)
            tally.add(kind, status, seconds, (201,), "upload")
            if status == 201:
                pk = json.loads(body)["id"]
                mine["datasets"].append(pk)
                uploads.append((pk, hashlib.sha256(content).hexdigest(), len(content)))
        elif kind == "run" and mine["started"] < RUNS_PER_CLIENT and len(mine["datasets"]) > 1:
            path = f"/api/datasets/{mine['datasets'][-1]}/runs/"
            status, seconds, _ = client.post_json(path, {"target": "target", "time_budget": 10})
            # 400: that upload is not profiled yet (one profile per user at a time).
            tally.add(kind, status, seconds, (201, 202, 400), path)
            mine["started"] += status in (201, 202)


def final_state(uploads: list) -> dict:
    """Stuck objects and lost bytes once the queue has drained (or STUCK_AFTER passed)."""
    from analysis.models import Dataset, Run

    busy_datasets = (Dataset.Status.UPLOADED, Dataset.Status.PROFILING)
    deadline = time.monotonic() + STUCK_AFTER
    while time.monotonic() < deadline:
        busy = (
            Dataset.objects.filter(status__in=busy_datasets).count()
            + Run.objects.filter(status__in=Run.ACTIVE).count()
        )
        if not busy:
            break
        time.sleep(2)
    lost = 0
    for pk, sha256, size in uploads:
        dataset = Dataset.objects.get(pk=pk)
        try:
            stored = Path(dataset.file.path).read_bytes()
        except (FileNotFoundError, ValueError):
            lost += size
            continue
        lost += 0 if hashlib.sha256(stored).hexdigest() == sha256 else size
    return {
        "stuck_datasets": Dataset.objects.filter(status__in=busy_datasets).count(),
        "stuck_runs": Run.objects.filter(status__in=Run.ACTIVE).count(),
        "datasets_by_status": _count(Dataset),
        "runs_by_status": _count(Run),
        "bytes_lost": lost,
    }


def _count(model) -> dict:
    counts = defaultdict(int)
    for status in model.objects.values_list("status", flat=True):
        counts[status] += 1
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="promise-load-"))
    env = setup_django(var)
    env.update(
        DEBUG="false",
        SECRET_KEY="load-benchmark-" + "x" * 40,
        # Eight clients of one address are not an attack; the throttle is tested elsewhere.
        PROMISE_API_USER_RATE="none",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    with celery_worker(env, 2, var / "worker.log"):
        users = prepare_users(args.clients, var)
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "promise.wsgi", "--bind", f"127.0.0.1:{PORT}",
             "--workers", "2", "--threads", "4", "--keep-alive", "5"],
            cwd=ROOT, env=env, stdout=(var / "web.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait(lambda: Client("load0").request("GET", "/healthz")[0] == 200, 60, "gunicorn")
            tally, uploads = Tally(), []
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=client_loop, args=(i, users, tally, until, uploads))
                for i in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            state = final_state(uploads)
        finally:
            web.terminate()
            web.wait(timeout=30)
    kinds = tally.summary()
    result = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": sum(k["requests"] for k in kinds.values()),
        "errors": sum(k["errors"] for k in kinds.values()),
        "leaks": len(tally.leaks),
        "stuck": state["stuck_datasets"] + state["stuck_runs"],
        "bytes_lost": state["bytes_lost"],
        "uploads": len(uploads),
        "kinds": kinds,
        "state": state,
        "error_samples": {k: v[:5] for k, v in tally.errors.items() if v},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
