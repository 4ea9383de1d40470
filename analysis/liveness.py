"""Which of PROMISE's tasks are alive: waiting in the broker's queues, or held by a worker.

The reconciler (analysis/reconcile.py) sends again the work of a row whose task is
neither. Both places are read, because each misses what the other holds:

- a message waiting for a worker is only in Redis, in the list named after its queue
  (one list per priority; kombu's Redis transport);
- a message a worker has taken is in the workers' own answers to `inspect` (running,
  reserved, or waiting for its countdown). Redis's `unacked` hash is not read: after a
  Redis restart it has forgotten messages that workers still run, and a worker whose
  machine vanished leaves its messages there for the whole visibility timeout.

A task is known by its name and its first argument, the id of its dataset or run.
"""

from __future__ import annotations

import ast
import base64
import json
import logging
from collections.abc import Iterable, Iterator

import redis
from django.conf import settings

from promise.celery import app

log = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>".
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITIES = range(10)
INSPECT_SECONDS = 2.0

Alive = set[tuple[str, int]]


class CannotTell(Exception):  # noqa: N818 - the name says what happened
    """The broker or the workers did not answer: no task can be called lost now."""


def live_tasks(queues: Iterable[str] | None = None) -> Alive:
    """(task name, first argument) of every task waiting in a queue or held by a worker."""
    queues = list(queues or (queue.name for queue in settings.CELERY_TASK_QUEUES))
    # Queues first, workers second: a message moving from one to the other meanwhile is
    # then seen in at least one of them.
    waiting = set(_keys(_queued_messages(queues)))
    return waiting | set(_keys(_held_by_workers()))


def _queued_messages(queues: list[str]) -> Iterator[tuple[str, list]]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for priority in PRIORITIES:
                pipe.lrange(f"{queue}{PRIORITY_SEPARATOR}{priority}" if priority else queue, 0, -1)
        lists = pipe.execute()
    except redis.RedisError as exc:
        raise CannotTell(f"the broker did not answer ({type(exc).__name__})") from exc
    finally:
        client.close()
    for raw in (raw for messages in lists for raw in messages):
        try:
            yield _message_task(raw)
        except (ValueError, TypeError, KeyError, IndexError):
            log.warning("A message in the broker's queues could not be read: %.200r", raw)


def _message_task(raw: bytes) -> tuple[str, list]:
    """The task name and arguments of a message as kombu stores it (Celery protocol 2)."""
    message = json.loads(raw)
    body = message["body"]
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return message["headers"]["task"], list(args)


def _held_by_workers() -> Iterator[tuple[str, list]]:
    try:
        # Every worker's running tasks; the wait is the whole timeout, since nobody knows
        # how many workers will answer. The two questions after stop at the last answer.
        active = app.control.inspect(timeout=INSPECT_SECONDS).active()
        if not active:
            raise CannotTell("no worker answered")
        known = app.control.inspect(
            destination=list(active), limit=len(active), timeout=INSPECT_SECONDS
        )
        reserved = known.reserved() or {}
        scheduled = known.scheduled() or {}
        if not set(active) <= set(reserved) & set(scheduled):
            raise CannotTell("a worker did not answer every question")
    except CannotTell:
        raise
    except Exception as exc:  # the broker is down: every kind of error means that here
        raise CannotTell(f"the workers could not be asked ({type(exc).__name__})") from exc
    for requests in (*active.values(), *reserved.values()):
        for request in requests:
            yield request["name"], _args(request["args"])
    for entries in scheduled.values():
        for entry in entries:
            yield entry["request"]["name"], _args(entry["request"]["args"])


def _args(args) -> list:
    # Celery 5 sends the arguments themselves; older workers sent their repr.
    return list(ast.literal_eval(args) if isinstance(args, str) else args)


def _keys(tasks: Iterable[tuple[str, list]]) -> Iterator[tuple[str, int]]:
    for name, args in tasks:
        if args and isinstance(args[0], int):
            yield name, args[0]
