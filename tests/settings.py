"""Settings for the test suite: PROMISE's own, with a Redis database and media folder of its own.

The Celery worker that the integration tests start reads the same environment, so both
sides of the broker agree.
"""

import os
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MEDIA_ROOT", str(_VAR / "test-media"))
os.environ.setdefault("PROMISE_MANIFEST_STATIC", "false")
# A killed worker's candidate is picked up again once its lease lapses; shorter than the
# default so the lost-worker tests do not wait half a minute for it.
os.environ.setdefault("PROMISE_CANDIDATE_LEASE_SECONDS", "12")
# Concurrent test sessions share a Redis database, and the property-based tests send many
# requests a minute: the API's throttle is tested on its own (tests/unit/test_api_throttle.py).
os.environ.setdefault("PROMISE_API_USER_RATE", "1000000/minute")
os.environ.setdefault("PROMISE_API_ANON_RATE", "1000000/minute")

from promise.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The integration tests' Celery worker is told the name of the test database this way.
if os.environ.get("PROMISE_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["PROMISE_TEST_DATABASE_NAME"]  # noqa: F405
