"""`/healthz`: whether the database, Redis and at least one Celery worker answer."""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from promise.celery import app

WORKER_PING_SECONDS = 1.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "redis": _redis(), "worker": _worker()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, **checks}, status=200 if healthy else 503)


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
