"""The dashboard's panels about the machinery: the broker's queues, the live workers,
storage per user, prediction latency and volume. Each asks with a short timeout, so a
broker that does not answer makes its panel say so instead of holding the page."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Sum

from promise.celery import app

from .. import file_store, serving_metrics
from ..limits import limits_for
from ..liveness import PRIORITIES, PRIORITY_SEPARATOR
from ..models import BatchPrediction, CandidateResult, Dataset, Export
from ..uploads import uploads_dir

INSPECT_SECONDS = 1.0
SEEN = "promise:ops:workers"  # worker hostname -> when it last answered the dashboard
FORGET_SECONDS = 86400  # a worker silent this long drops off the list
KINDS = ("files", "models", "exports", "scored", "uploads")  # what a user's bytes are


class Unavailable(Exception):  # noqa: N818 - the name says what happened
    """The broker or Redis did not answer; the message says so in a sentence."""


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def queue_depths() -> list[dict]:
    """Messages waiting in each Celery queue (kombu keeps a Redis list per priority)."""
    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    try:
        pipe = _redis(app.conf.broker_url).pipeline(transaction=False)
        for name in names:
            for priority in PRIORITIES:
                pipe.llen(f"{name}{PRIORITY_SEPARATOR}{priority}" if priority else name)
        lengths = pipe.execute()
    except redis.RedisError as exc:
        raise Unavailable(f"The broker did not answer ({type(exc).__name__}).") from exc
    per = len(PRIORITIES)
    return [
        {"queue": name, "waiting": sum(lengths[n * per : (n + 1) * per])}
        for n, name in enumerate(names)
    ]


def workers(now: float | None = None) -> list[dict]:
    """Every worker that answers: its concurrency and the tasks it runs now; and those
    that answered before but not now, with when they last did."""
    now = now or time.time()
    try:  # a broker that is down would hold Celery's own calls for seconds of retries
        _redis(app.conf.broker_url).ping()
    except redis.RedisError as exc:
        raise Unavailable(f"The broker did not answer ({type(exc).__name__}).") from exc
    try:
        stats = app.control.inspect(timeout=INSPECT_SECONDS).stats() or {}
        active = {}
        if stats:
            active = (
                app.control.inspect(
                    destination=list(stats), limit=len(stats), timeout=INSPECT_SECONDS
                ).active()
                or {}
            )
    except Exception as exc:  # the broker is down: every kind of error means that here
        raise Unavailable(f"The workers could not be asked ({type(exc).__name__}).") from exc
    client = _redis(settings.REDIS_URL)
    try:
        if stats:
            client.hset(SEEN, mapping={name: now for name in stats})
        seen = {k.decode(): float(v) for k, v in client.hgetall(SEEN).items()}
        if gone := [name for name, at in seen.items() if now - at > FORGET_SECONDS]:
            client.hdel(SEEN, *gone)
    except redis.RedisError:
        seen = {name: now for name in stats}
    found = []
    for name in sorted(seen.keys() | stats.keys()):
        info = stats.get(name)
        tasks = active.get(name, [])
        found.append(
            {
                "hostname": name,
                "answering": info is not None,
                "concurrency": (info or {}).get("pool", {}).get("max-concurrency"),
                "active": [
                    {"name": t.get("name", "").rsplit(".", 1)[-1], "args": t.get("args")}
                    for t in tasks
                ],
                "last_seen_seconds": round(now - seen.get(name, now), 1),
            }
        )
    return found


def _file_bytes(name: str) -> int:
    try:
        return file_store.storage().size(name)
    except (OSError, ValueError):  # gone, or the storage cannot be reached
        return 0


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def storage() -> dict:
    """Bytes per user (uploaded files, trained models, exports, scored files, unfinished
    uploads) with their quota, and the disk that holds them."""
    users = {
        u.pk: {"user": u.username, "datasets": 0, **dict.fromkeys(KINDS, 0)}
        for u in get_user_model().objects.only("pk", "username")
    }
    for owner, n, size in Dataset.objects.values_list("owner").annotate(
        Count("pk"), Sum("size_bytes")
    ):
        users[owner].update(datasets=n, files=size or 0)
    for owner, size in CandidateResult.objects.values_list("run__owner").annotate(
        Sum("model_bytes")
    ):
        users[owner]["models"] = size or 0
    for owner, name in Export.objects.exclude(file="").values_list("owner", "file"):
        users[owner]["exports"] += _file_bytes(name)
    for owner, *names in BatchPrediction.objects.values_list("owner", "input_file", "result_file"):
        users[owner]["scored"] += sum(_file_bytes(name) for name in names if name)
    uploads = uploads_dir()
    if uploads.is_dir():
        for folder in uploads.iterdir():
            if folder.name.isdigit() and int(folder.name) in users:
                users[int(folder.name)]["uploads"] = _folder_bytes(folder)
    rows = []
    for pk, row in users.items():
        row["total"] = sum(row[kind] for kind in KINDS)
        if row["total"] or row["datasets"]:
            # The quota counts the uploaded files (analysis/limits.py).
            row["quota"] = limits_for(pk).storage_quota_bytes
            row["quota_used"] = round(100 * row["files"] / row["quota"]) if row["quota"] else None
            rows.append(row)
    rows.sort(key=lambda r: -r["total"])
    # On S3 the bucket has no size to show: the disk shown is the workers' cache's.
    media = Path(settings.MEDIA_ROOT if file_store.is_local() else settings.FILE_CACHE_DIR)
    while not media.is_dir() and media != media.parent:
        media = media.parent
    disk = shutil.disk_usage(media)
    return {
        "users": rows,
        "total": sum(r["total"] for r in rows),
        "disk": {"total": disk.total, "used": disk.used, "free": disk.free},
    }


def serving() -> dict:
    """Prediction volume and latency per model, as recorded by every web process."""
    names = {}
    try:
        report = serving_metrics.summary()
    except redis.RedisError as exc:
        raise Unavailable(f"Redis did not answer ({type(exc).__name__}).") from exc
    ids = [m["candidate"] for m in report["models"]]
    for pk, label, run_id in CandidateResult.objects.filter(pk__in=ids).values_list(
        "pk", "label", "run_id"
    ):
        names[pk] = f"{label} (run {run_id})"
    models = [{**m, "name": names.get(m["candidate"], "deleted")} for m in report["models"]]
    return {
        "models": sorted(models, key=lambda m: -m["requests"]),
        "requests": sum(m["requests"] for m in models),
        "rows": sum(m["rows"] for m in models),
        "errors": sum(m["errors"] for m in models),
        "per_second": round(sum(m["requests_per_second"] for m in models), 3),
    }
