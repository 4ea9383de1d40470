"""At most PROMISE_PROFILES_PER_USER profiling tasks of one user at once, across workers.

Without this, a user who uploads a few large or hostile files holds every worker until
they are read, and nobody else's upload is profiled meanwhile. A profiling task takes one
of its owner's slots before it reads the file; when they are all taken it goes back to
the queue (the task retries itself after a few seconds) and the worker takes other work.

The slots are a sorted set in Redis per user: each holder is a member whose score is the
time its claim lapses. The holder renews it from a thread every third of SLOT_SECONDS,
so a worker that dies stops renewing and its slot is free again within SLOT_SECONDS; it
cannot keep the user's uploads waiting for good. Redis being down does not stop
profiling: the task then runs without a slot (and says so in the log).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from .models import Dataset

log = logging.getLogger(__name__)

SLOT_SECONDS = 30
# A task that found no slot comes back after this long.
RETRY_SECONDS = 3

# Drop lapsed claims; take a slot if fewer than ARGV[2] remain. Atomic in Redis.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


class SlotsTaken(Exception):  # noqa: N818 - the name says what happened
    """Every profiling slot of the dataset's owner is taken; try again in `seconds`."""

    def __init__(self, seconds: float = RETRY_SECONDS):
        super().__init__(f"every profiling slot is taken; again in {seconds:.0f} s")
        self.seconds = seconds

    def __reduce__(self):
        # Rebuilt from `seconds`, not the message: Celery pickles the exception behind a
        # retry from the pool process to the worker, and unpickling it must not raise.
        return type(self), (self.seconds,)


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def _key(owner_id: int) -> str:
    return f"promise:profiling-slots:{owner_id}"


@contextmanager
def profiling_slot(dataset_id: int) -> Iterator[None]:
    """Hold one of the dataset owner's profiling slots for the block, or raise SlotsTaken."""
    owner_id = Dataset.objects.filter(pk=dataset_id).values_list("owner_id", flat=True).first()
    if owner_id is None:  # deleted meanwhile: the task has nothing to do
        yield
        return
    client, key, token = _client(), _key(owner_id), uuid.uuid4().hex
    try:
        taken = client.eval(
            _TAKE,
            1,
            key,
            time.time(),
            settings.PROMISE_PROFILES_PER_USER,
            time.time() + SLOT_SECONDS,
            token,
            math.ceil(SLOT_SECONDS * 4),
        )
    except redis.RedisError:
        log.warning("Redis is unreachable: profiling dataset %s without a slot", dataset_id)
        yield
        return
    if not taken:
        raise SlotsTaken()
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(client, key, token, done), name="profiling-slot", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
        try:
            client.zrem(key, token)
        except redis.RedisError:
            log.warning("Could not free a profiling slot; it lapses in %s s", SLOT_SECONDS)


def _renew(client: redis.Redis, key: str, token: str, done: threading.Event) -> None:
    while not done.wait(SLOT_SECONDS / 3):
        try:
            client.zadd(key, {token: time.time() + SLOT_SECONDS}, xx=True)
            client.expire(key, math.ceil(SLOT_SECONDS * 4))
        except redis.RedisError:
            log.warning("Could not renew a profiling slot; trying again")


def slots_in_use(owner_id: int) -> int:
    """How many of the user's profiling slots are held now (lapsed claims not counted)."""
    return _client().zcount(_key(owner_id), time.time(), "+inf")
