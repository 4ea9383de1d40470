"""gunicorn's settings for PROMISE's web processes: the Procfile's `web` (make run), the
README's web hosts and benchmarks/serving.py start gunicorn with `-c python:promise.gunicorn`.

- workers: WEB_CONCURRENCY, or gunicorn's own advice of two per core plus one, as many
  as the memory holds at 2 GiB each. A process runs Python on one core at a time, and
  gunicorn gives each kept-alive connection to one process for its whole life: with only
  a process per core, the connections of a few busy clients often land mostly on one of
  them, which then queues while the other idles (eight clients sending 1,040 one-row
  predictions/s in all, 2 cores: with two processes 4 rounds of 8 had a P95 of 0.8 to
  3.4 s; with five, 12 rounds, never above 11 ms). Each process keeps the models it serves
  (benchmarks/serving.py's: about 350 MB with the four compiled ones, 800 MB once it has
  loaded TensorFlow for the LSTM), hence the memory's limit.
- threads: each process answers 4 requests at once, so a slow one (a file upload, the
  LSTM's first load) does not hold up the others.
- keepalive: above the 2 s at which the run and dataset pages poll, so a poll never meets
  a connection that gunicorn is closing (gunicorn's default, 2 s, is exactly the polling
  interval). A proxy in front should keep idle connections for less than this.
"""

import os

PROCESS_MEMORY = 2 * 1024**3


def _default_workers() -> int:
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return max(1, min(2 * len(os.sched_getaffinity(0)) + 1, memory // PROCESS_MEMORY))


workers = int(os.environ.get("WEB_CONCURRENCY") or _default_workers())
worker_class = "gthread"
threads = 4
timeout = 300
graceful_timeout = 10
keepalive = 5
control_socket_disable = True
