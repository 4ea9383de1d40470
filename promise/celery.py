"""The Celery app of PROMISE; configuration comes from Django settings (CELERY_*)."""

import os

import redis
from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promise.settings")

app = Celery("promise")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _survive_broker_restart() -> None:
    """Keep a worker alive through a Redis restart while it holds unacknowledged messages.

    On losing the broker, Celery 5.7 detaches the connection's transport and then closes
    the connection; closing the channel tries to give the worker's unacknowledged messages
    (acks_late: every task it runs) back to Redis through a new client, whose address it
    reads from the detached transport: an AttributeError, which nothing catches, and the
    worker process exits instead of reconnecting. A connection error there is what the
    close expects (Redis is down anyway) and ignores; the messages stay in Redis's unacked
    set, and the reconciler (analysis/reconcile.py) covers those Redis itself lost.
    """
    connparams = kombu_redis.Channel._connparams

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise redis.ConnectionError("The connection to the broker was closed.")
        return connparams(self, asynchronous=asynchronous)

    kombu_redis.Channel._connparams = _connparams


_survive_broker_restart()
