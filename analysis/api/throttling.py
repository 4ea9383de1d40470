"""Per-user throttling of the API, counted in Redis so that every web process agrees.

The rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] ("user" for signed-in clients,
"anon" for the few endpoints open to anyone), read on each request. Counting is one
fixed window per rate period (INCR and EXPIRE in one round trip): DRF's own throttles keep
a list of every request's time in the cache and rewrite it whole on each request, which
costs more the higher the rate. A window allows at most twice the rate across its edge.

When Redis does not answer, requests are let through (and logged): throttling protects
the service, it must not be what takes it down.
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings
from rest_framework import throttling
from rest_framework.settings import api_settings

log = logging.getLogger(__name__)


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


class _WindowThrottle:
    """allow_request/wait for a SimpleRateThrottle subclass, with a Redis window counter."""

    def __init__(self):  # DRF's reads the rate once, at import; this one on each request
        self._wait = 0.0

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        rate = self.get_rate()
        if rate is None:
            return True
        limit, period = self.parse_rate(rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = f"promise:{key}:{period}:{int(now // period)}"
        try:
            pipe = _client(settings.REDIS_URL).pipeline()
            pipe.incr(window)
            pipe.expire(window, period + 1)
            count = pipe.execute()[0]
        except redis.RedisError as exc:
            log.warning("API throttling skipped: Redis did not answer (%s)", exc)
            return True
        if count <= limit:
            return True
        self._wait = period - now % period
        return False

    def wait(self) -> float:
        return self._wait


class UserRateThrottle(_WindowThrottle, throttling.UserRateThrottle):
    """Signed-in clients, counted per user (whatever way they authenticate)."""


class AnonRateThrottle(_WindowThrottle, throttling.AnonRateThrottle):
    """Clients not signed in, counted per address (the schema and the docs)."""
