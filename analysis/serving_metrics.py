"""Prediction metrics kept in Redis, so every web process adds to the same numbers.

Per model (candidate id):
    serving:stats:<id>        hash: requests, errors, cache_hits, rows
    serving:latency:<id>      list: the last LATENCY_SAMPLES request latencies (ms), newest first
    serving:rate:<id>:<t>     requests in the RATE_BUCKET seconds starting at t (expires)
    serving:models            set of the ids that have been asked for predictions
and per web process:
    serving:loaded:<host:pid> JSON of the models it holds, with their memory (expires)

Recording is one pipelined round trip; a Redis that does not answer costs the numbers
of that request, never the prediction.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time

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


def record(model_id: int, seconds: float, *, rows: int, error: bool, cache_hit: bool) -> None:
    """Count one prediction request of `model_id` that took `seconds`."""
    now = time.time()
    bucket = int(now // RATE_BUCKET * RATE_BUCKET)
    stats, latency = f"{PREFIX}stats:{model_id}", f"{PREFIX}latency:{model_id}"
    rate = f"{PREFIX}rate:{model_id}:{bucket}"
    try:
        pipe = client().pipeline(transaction=False)
        pipe.sadd(f"{PREFIX}models", model_id)
        pipe.hincrby(stats, "requests", 1)
        pipe.hincrby(stats, "rows", rows)
        if error:
            pipe.hincrby(stats, "errors", 1)
        if cache_hit:
            pipe.hincrby(stats, "cache_hits", 1)
        pipe.lpush(latency, round(seconds * 1000, 4))
        pipe.ltrim(latency, 0, settings.SERVING_LATENCY_SAMPLES - 1)
        pipe.incr(rate)
        pipe.expire(rate, RATE_WINDOW + 2 * RATE_BUCKET)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("serving metrics not recorded: %s", exc)


def publish_loaded(models: dict[int, dict]) -> None:
    """Say which models this process holds (id → path, bytes, loaded_at)."""
    key = f"{PREFIX}loaded:{process_name()}"
    try:
        client().set(key, json.dumps({str(k): v for k, v in models.items()}), ex=LOADED_TTL)
    except redis.RedisError as exc:
        log.warning("loaded models not published: %s", exc)


def summary(names: dict[int, str] | None = None) -> dict:
    """Every model's numbers, and the models each process holds."""
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
    r = client()
    keys = [
        k
        for pattern in ("stats:*", "latency:*", "rate:*", "models")
        for k in r.scan_iter(match=f"{PREFIX}{pattern}", count=500)
    ]
    if keys:
        r.delete(*keys)
