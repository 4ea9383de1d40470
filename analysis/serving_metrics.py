"""Prediction metrics kept in Redis, so every web process adds to the same numbers.

Per model (candidate id):
    serving:stats:<id>        hash: requests, errors, cache_hits, rows
    serving:latency:<id>      list: the last LATENCY_SAMPLES request latencies (ms), newest first
    serving:rate:<id>:<t>     requests in the RATE_BUCKET seconds starting at t (expires)
    serving:models            set of the ids that have been asked for predictions
and per web process:
    serving:loaded:<host:pid> JSON of the models it holds, with their memory (expires)

A request adds its numbers to this process's pending ones, in memory; a daemon thread
sends them in one pipelined round trip every FLUSH_SECONDS, and `summary` sends this
process's first. A round trip per request cost a single-row prediction about a quarter
of its server time (benchmarks/serving.py); the price is that another process's numbers
show up to FLUSH_SECONDS late. A Redis that does not answer costs those numbers, never a
prediction.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import Counter, defaultdict

import numpy as np
import redis
from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "serving:"
RATE_BUCKET = 10  # seconds
RATE_WINDOW = 60  # requests per second are averaged over this many seconds
LOADED_TTL = 3600  # a process that stopped answering drops out of the loaded list


def process_name() -> str:
    """This process as the loaded list names it (read each time: a fork has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _clients[url]


# Pending numbers are sent at least this often (seconds).
FLUSH_SECONDS = 0.5


class _Pending:
    """This process's numbers not yet in Redis."""

    def __init__(self):
        self.lock = threading.Lock()  # guards the numbers
        self.sending = threading.Lock()  # one flush or reset at a time
        self.flusher_pid = 0  # the process whose thread sends them (a fork starts its own)
        self._empty()

    def _empty(self) -> None:
        self.stats: Counter = Counter()  # by (model id, field)
        self.latencies: dict[int, list[float]] = defaultdict(list)  # ms, oldest first
        self.rates: Counter = Counter()  # requests by rate key

    def take(self) -> tuple[Counter, dict[int, list[float]], Counter]:
        """What is pending, leaving nothing (call under the lock)."""
        taken = self.stats, self.latencies, self.rates
        self._empty()
        return taken


_pending = _Pending()


def record(model_id: int, seconds: float, *, rows: int, error: bool, cache_hit: bool) -> None:
    """Count one prediction request of `model_id` that took `seconds`."""
    bucket = int(time.time() // RATE_BUCKET * RATE_BUCKET)
    with _pending.lock:
        stats = _pending.stats
        stats[model_id, "requests"] += 1
        stats[model_id, "rows"] += rows
        stats[model_id, "errors"] += int(error)
        stats[model_id, "cache_hits"] += int(cache_hit)
        _pending.latencies[model_id].append(round(seconds * 1000, 4))
        _pending.rates[f"{PREFIX}rate:{model_id}:{bucket}"] += 1
        if _pending.flusher_pid != os.getpid():
            _pending.flusher_pid = os.getpid()
            threading.Thread(target=_flush_forever, name="serving-metrics", daemon=True).start()


def flush() -> None:
    """Send this process's pending numbers to Redis in one round trip."""
    with _pending.sending:
        with _pending.lock:
            stats, latencies, rates = _pending.take()
        if stats:
            _send(stats, latencies, rates)


def _send(stats: Counter, latencies: dict[int, list[float]], rates: Counter) -> None:
    try:
        pipe = client().pipeline(transaction=False)
        pipe.sadd(f"{PREFIX}models", *latencies)
        for (model_id, name), count in stats.items():
            if count:
                pipe.hincrby(f"{PREFIX}stats:{model_id}", name, count)
        for model_id, samples in latencies.items():
            key = f"{PREFIX}latency:{model_id}"
            pipe.lpush(key, *samples[-settings.SERVING_LATENCY_SAMPLES :])  # newest first
            pipe.ltrim(key, 0, settings.SERVING_LATENCY_SAMPLES - 1)
        for key, count in rates.items():
            pipe.incrby(key, count)
            pipe.expire(key, RATE_WINDOW + 2 * RATE_BUCKET)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("serving metrics not recorded: %s", exc)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


def publish_loaded(models: dict[int, dict]) -> None:
    """Say which models this process holds (id → path, bytes, loaded_at)."""
    key = f"{PREFIX}loaded:{process_name()}"
    try:
        client().set(key, json.dumps({str(k): v for k, v in models.items()}), ex=LOADED_TTL)
    except redis.RedisError as exc:
        log.warning("loaded models not published: %s", exc)


def summary(names: dict[int, str] | None = None) -> dict:
    """Every model's numbers, and the models each process holds."""
    flush()
    r = client()
    ids = sorted(int(i) for i in r.smembers(f"{PREFIX}models"))
    now = time.time()
    buckets = [
        int(now // RATE_BUCKET * RATE_BUCKET) - RATE_BUCKET * k
        for k in range(1, RATE_WINDOW // RATE_BUCKET + 1)
    ]  # whole buckets only: the current one is still filling
    pipe = r.pipeline(transaction=False)
    for model_id in ids:
        pipe.hgetall(f"{PREFIX}stats:{model_id}")
        pipe.lrange(f"{PREFIX}latency:{model_id}", 0, -1)
        pipe.mget([f"{PREFIX}rate:{model_id}:{b}" for b in buckets])
    answers = pipe.execute() if ids else []
    loaded = _loaded(r)
    models = []
    for n, model_id in enumerate(ids):
        stats, samples, rates = answers[3 * n : 3 * n + 3]
        stats = {k.decode(): int(v) for k, v in stats.items()}
        requests = stats.get("requests", 0)
        latencies = np.asarray([float(s) for s in samples]) if samples else None
        p50, p95, p99 = (
            np.percentile(latencies, [50, 95, 99]).round(3).tolist()
            if latencies is not None
            else [None] * 3
        )
        models.append(
            {
                "candidate": model_id,
                "name": (names or {}).get(model_id, ""),
                "requests": requests,
                "rows": stats.get("rows", 0),
                "errors": stats.get("errors", 0),
                "cache_hits": stats.get("cache_hits", 0),
                "cache_hit_rate": round(stats.get("cache_hits", 0) / requests, 4)
                if requests
                else None,
                "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
                "latency_samples": len(samples),
                "requests_per_second": round(sum(int(v or 0) for v in rates) / RATE_WINDOW, 3),
                "loaded_in": [
                    {"process": process, **held[str(model_id)]}
                    for process, held in loaded.items()
                    if str(model_id) in held
                ],
            }
        )
    return {
        "models": models,
        "processes": [
            {
                "process": process,
                "models": len(held),
                "bytes": sum(m.get("bytes", 0) for m in held.values()),
            }
            for process, held in sorted(loaded.items())
        ],
    }


def _loaded(r: redis.Redis) -> dict[str, dict]:
    keys = list(r.scan_iter(match=f"{PREFIX}loaded:*", count=100))
    values = r.mget(keys) if keys else []
    return {
        k.decode().removeprefix(f"{PREFIX}loaded:"): json.loads(v)
        for k, v in zip(keys, values, strict=True)
        if v
    }


def reset() -> None:
    """Forget every number (the caches are cleared apart: the numbers outlive them)."""
    with _pending.sending:
        with _pending.lock:
            _pending.take()
        r = client()
        keys = [
            k
            for pattern in ("stats:*", "latency:*", "rate:*", "models")
            for k in r.scan_iter(match=f"{PREFIX}{pattern}", count=500)
        ]
        if keys:
            r.delete(*keys)
