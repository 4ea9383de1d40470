"""`/healthz`: whether the database, Redis and at least one Celery worker answer, and
whether the work is moving.

`status` is "down" (HTTP 503) when the database, Redis or every worker is gone: this
server cannot do its job. It is "degraded" (HTTP 200, `ok` false) when they answer but
work is stuck: a run with no live task (the reconciler found it so and sends it again,
analysis/reconcile.py), a run still active PROMISE_STALLED_RUN_SECONDS past its time
budget, or no reconciler pass for three of its intervals (Celery beat is not running).
A load balancer keeps sending pages to a degraded server; a monitor reads `status`.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from promise.celery import app

from . import reconcile
from .models import Run

WORKER_PING_SECONDS = 1.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "redis": _redis(), "worker": _worker()}
    up = all(check["ok"] for check in checks.values())
    if checks["database"]["ok"] and checks["redis"]["ok"]:
        checks.update(_work())
    moving = all(check["ok"] for check in checks.values())
    status = "ok" if moving else "degraded" if up else "down"
    return JsonResponse({"ok": moving, "status": status, **checks}, status=200 if up else 503)


def _work() -> dict:
    """The runs that make no progress, and whether the reconciler passes."""
    try:
        found = reconcile.state()
    except redis.RedisError as exc:
        return {"runs": {"ok": False, "error": type(exc).__name__}}
    now = timezone.now()
    limit = settings.PROMISE_STALLED_RUN_SECONDS
    started = Run.objects.filter(status__in=Run.ACTIVE, started_at__isnull=False)
    overdue = {
        pk
        for pk, started_at, budget in started.values_list("pk", "started_at", "time_budget")
        if (now - started_at).total_seconds() > budget + limit
    }
    lost = {int(key.split(":")[1]) for key in found["suspects"] if key.startswith("run:")}
    stalled = sorted(lost | overdue)
    runs = {"ok": not stalled, "stalled": stalled}
    if stalled:
        runs["message"] = (
            f"{len(stalled)} run(s) made no progress: no live task, or more than "
            f"{settings.PROMISE_STALLED_RUN_SECONDS:.0f} s past the time budget."
        )
    last = found["last"]
    age = None if last is None else round(now.timestamp() - last["at"], 1)
    reconciler = {"ok": age is not None and age < 3 * settings.PROMISE_RECONCILE_SECONDS}
    reconciler["last_pass_seconds_ago"] = age
    if last and last.get("skipped"):
        reconciler["skipped"] = last["skipped"]
    return {"runs": runs, "reconciler": reconciler}


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure is the answer here
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        return {"ok": True}
    except redis.RedisError as exc:
        return {"ok": False, "error": type(exc).__name__}


def _worker() -> dict:
    try:
        replies = app.control.ping(timeout=WORKER_PING_SECONDS)
    except Exception as exc:  # the broker is down: say so rather than fail the page
        return {"ok": False, "error": type(exc).__name__, "workers": []}
    workers = sorted(name for reply in replies for name in reply)
    return {"ok": bool(workers), "workers": workers}
