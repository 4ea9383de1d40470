"""Settings for the test suite: PROMISE's own, with a Redis database and media folder of its own.

The Celery worker that the integration tests start reads the same environment, so both
sides of the broker agree.
"""

import os
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MEDIA_ROOT", str(_VAR / "test-media"))
# One key for the whole session: written into the environment, every process agrees on it
# (parallel processes would otherwise race to create var/secret_key).
os.environ.setdefault("SECRET_KEY", "promise-test-suite-only-" + "x" * 40)


def _own_per_xdist_worker() -> None:
    """Under pytest-xdist, worker gwN takes Redis database REDIS_URL's − N, the media folder
    MEDIA_ROOT/gwN and (pytest-django's suffix) the test database <name>_gwN; written into
    the environment, so the Celery workers and servers it starts use the same ones."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or os.environ.get("PROMISE_TEST_XDIST_WORKER") == worker:
        return  # not under xdist, or a child process that inherited what was worked out
    os.environ["PROMISE_TEST_XDIST_WORKER"] = worker
    index = int(worker.removeprefix("gw"))
    base, _, number = os.environ["REDIS_URL"].rpartition("/")
    database = int(number or 0) - index
    if database < 0:
        raise RuntimeError(
            f"pytest-xdist worker {worker} would need Redis database {database}: "
            f"give REDIS_URL the highest of the consecutive databases the workers may use"
        )
    os.environ["REDIS_URL"] = f"{base}/{database}"
    os.environ["MEDIA_ROOT"] = str(Path(os.environ["MEDIA_ROOT"]) / worker)


_own_per_xdist_worker()
os.environ.setdefault("PROMISE_MANIFEST_STATIC", "false")
# A killed worker's candidate is picked up again once its lease lapses; shorter than the
# default so the lost-worker tests do not wait half a minute for it.
os.environ.setdefault("PROMISE_CANDIDATE_LEASE_SECONDS", "12")
# Concurrent test sessions share a Redis database, and the property-based tests send many
# requests a minute: the API's throttle is tested on its own (tests/unit/test_api_throttle.py).
os.environ.setdefault("PROMISE_API_USER_RATE", "1000000/minute")
os.environ.setdefault("PROMISE_API_ANON_RATE", "1000000/minute")

# The processes the tests start (Celery workers, gunicorn) close their database
# connections after each request or task: one kept open would stop the test database from
# being dropped at the end of the session.
os.environ.setdefault("PROMISE_DB_CONN_MAX_AGE", "0")
# Every model's answers go through the prediction cache, as the cache's tests expect; the
# choice by compute time is tested on its own (tests/unit/test_serving.py).
os.environ.setdefault("PROMISE_PREDICTION_CACHE_MIN_MS", "0")
# Test databases give a new object an id an earlier test's object had: a candidate
# remembered by id would be the earlier one (the memory is tested on its own).
os.environ.setdefault("PROMISE_SERVING_CANDIDATE_SECONDS", "0")

from promise.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The integration tests' Celery worker is told the name of the test database this way.
if os.environ.get("PROMISE_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["PROMISE_TEST_DATABASE_NAME"]  # noqa: F405
