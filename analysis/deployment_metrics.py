"""A deployment's numbers per arm, kept in Redis beside serving_metrics' per-model ones.

Per deployment <d> and arm <a> (champion, challenger):
    serving:deployment:<d>:<a>          hash: answered, shadowed, errors, rows
    serving:deployment:<d>:<a>:latency  list: the last SERVING_LATENCY_SAMPLES latencies (ms)
    serving:deployment:<d>:<a>:labels   hash: predicted label → rows (classification)
    serving:deployment:<d>:<a>:values   list: the last VALUE_SAMPLES predicted numbers
and per deployment, of the shadowed requests:
    serving:deployment:<d>:agreement    hash: requests, rows, agreed_rows, abs_difference,
                                        skipped (the side queue was full)

Two rows agree when the arms predict the same label, or numbers within AGREE_RELATIVE of
each other. Recording is one pipelined round trip; a Redis that does not answer costs
the numbers, never the prediction.
"""

from __future__ import annotations

import logging

import numpy as np
import redis
from django.conf import settings

from .serving_metrics import client

log = logging.getLogger(__name__)

ARMS = ("champion", "challenger")
VALUE_SAMPLES = 1000
AGREE_RELATIVE = 0.05


def _key(deployment_id: int, *parts: str) -> str:
    return ":".join(["serving:deployment", str(deployment_id), *parts])


def record(
    deployment_id: int,
    arm: str,
    seconds: float,
    *,
    result: dict | None,
    shadow: bool = False,
) -> None:
    """Count one request answered by `arm` (or on the side, `shadow`) in `seconds`;
    `result` is serving's answer, None when the arm failed."""
    stats = _key(deployment_id, arm)
    latency = _key(deployment_id, arm, "latency")
    try:
        pipe = client().pipeline(transaction=False)
        pipe.hincrby(stats, "shadowed" if shadow else "answered", 1)
        pipe.lpush(latency, round(seconds * 1000, 4))
        pipe.ltrim(latency, 0, settings.SERVING_LATENCY_SAMPLES - 1)
        if result is None:
            pipe.hincrby(stats, "errors", 1)
        else:
            predictions = result["predictions"]
            pipe.hincrby(stats, "rows", len(predictions))
            if "probabilities" in result:
                for label, count in _counts(predictions).items():
                    pipe.hincrby(_key(deployment_id, arm, "labels"), label, count)
            else:
                values = _key(deployment_id, arm, "values")
                pipe.lpush(values, *[float(p) for p in predictions[:VALUE_SAMPLES]])
                pipe.ltrim(values, 0, VALUE_SAMPLES - 1)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("deployment metrics not recorded: %s", exc)


def _counts(predictions: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in predictions:
        counts[str(p)] = counts.get(str(p), 0) + 1
    return counts


def agreement(champion: list, challenger: list) -> tuple[int, float]:
    """How many rows the two arms' predictions agree on, and the sum of their absolute
    differences (0 for labels)."""
    agreed, difference = 0, 0.0
    for a, b in zip(champion, challenger, strict=True):
        if isinstance(a, int | float) and not isinstance(a, bool) and isinstance(b, int | float):
            gap = abs(float(a) - float(b))
            difference += gap
            agreed += gap <= AGREE_RELATIVE * max(abs(float(a)), abs(float(b)))
        else:
            agreed += str(a) == str(b)
    return agreed, difference


def record_agreement(deployment_id: int, champion: dict, challenger: dict) -> None:
    """Compare the two arms' answers to one shadowed request."""
    first, second = champion["predictions"], challenger["predictions"]
    if len(first) != len(second):
        return
    agreed, difference = agreement(first, second)
    key = _key(deployment_id, "agreement")
    try:
        pipe = client().pipeline(transaction=False)
        pipe.hincrby(key, "requests", 1)
        pipe.hincrby(key, "rows", len(first))
        pipe.hincrby(key, "agreed_rows", agreed)
        pipe.hincrbyfloat(key, "abs_difference", difference)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("deployment agreement not recorded: %s", exc)


def record_skipped(deployment_id: int) -> None:
    try:
        client().hincrby(_key(deployment_id, "agreement"), "skipped", 1)
    except redis.RedisError as exc:
        log.warning("skipped shadow request not counted: %s", exc)


def summary(deployment_id: int) -> dict:
    """Both arms' numbers and the agreement on shadowed requests (raises RedisError)."""
    pipe = client().pipeline(transaction=False)
    for arm in ARMS:
        pipe.hgetall(_key(deployment_id, arm))
        pipe.lrange(_key(deployment_id, arm, "latency"), 0, -1)
        pipe.hgetall(_key(deployment_id, arm, "labels"))
        pipe.lrange(_key(deployment_id, arm, "values"), 0, -1)
    pipe.hgetall(_key(deployment_id, "agreement"))
    answers = pipe.execute()
    arms = {arm: _arm(*answers[4 * n : 4 * n + 4]) for n, arm in enumerate(ARMS)}
    shared = {k.decode(): float(v) for k, v in answers[-1].items()}
    rows = int(shared.get("rows", 0))
    return {
        "arms": arms,
        "shadow": {
            "requests": int(shared.get("requests", 0)),
            "rows": rows,
            "agreement": round(shared.get("agreed_rows", 0) / rows, 4) if rows else None,
            "mean_abs_difference": round(shared.get("abs_difference", 0) / rows, 6)
            if rows
            else None,
            "skipped": int(shared.get("skipped", 0)),
        },
    }


def _arm(stats: dict, samples: list, labels: dict, values: list) -> dict:
    stats = {k.decode(): int(v) for k, v in stats.items()}
    latencies = np.asarray([float(s) for s in samples])
    p50, p95, p99 = (
        np.percentile(latencies, [50, 95, 99]).round(3).tolist() if samples else [None] * 3
    )
    answered, shadowed = stats.get("answered", 0), stats.get("shadowed", 0)
    errors = stats.get("errors", 0)
    arm = {
        "answered": answered,
        "shadowed": shadowed,
        "errors": errors,
        "error_rate": round(errors / (answered + shadowed), 4) if answered + shadowed else None,
        "rows": stats.get("rows", 0),
        "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
    }
    if labels:
        counts = {k.decode(): int(v) for k, v in labels.items()}
        total = sum(counts.values())
        arm["predictions"] = {
            "labels": {
                k: {"rows": v, "share": round(v / total, 4)} for k, v in sorted(counts.items())
            }
        }
    elif values:
        numbers = np.asarray([float(v) for v in values])
        low, p50, high = np.percentile(numbers, [5, 50, 95]).tolist()
        arm["predictions"] = {
            "numbers": {
                "samples": len(numbers),
                "mean": round(float(numbers.mean()), 6),
                "std": round(float(numbers.std()), 6),
                "p5": round(low, 6),
                "p50": round(p50, 6),
                "p95": round(high, 6),
            }
        }
    else:
        arm["predictions"] = None
    return arm


def forget(deployment_id: int) -> None:
    """Drop a deleted deployment's numbers."""
    try:
        r = client()
        keys = list(r.scan_iter(match=_key(deployment_id, "*"), count=500))
        if keys:
            r.delete(*keys)
    except redis.RedisError as exc:
        log.warning("deleted deployment's numbers kept: %s", exc)
