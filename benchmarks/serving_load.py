"""Load for the serving benchmarks: client processes, each with one kept-alive connection.

Processes, not threads: clients that share one interpreter wait for each other's turn at
its lock, and that wait would be counted as the server's latency.

Two ways to drive:
- unpaced (closed loop): each client sends its next request as soon as the last one is
  answered, so the rate is the most the server gives to that many clients;
- paced (open loop): the clients together send `rate` requests per second on a fixed
  schedule (client i at i/rate, i/rate + clients/rate, …). A latency is counted from the
  request's scheduled time, not from when it went out: when the server falls behind, the
  time a request waited to be sent is part of its latency (otherwise a slow answer would
  hold back the requests behind it and hide the queue: "coordinated omission").

A request is made by `request(n)` → (method, path, body), n being a number no other
request of the run gets (for rows that must differ every time).
"""

from __future__ import annotations

import http.client
import itertools
import multiprocessing
import time
from collections.abc import Callable

import numpy as np

Request = Callable[[int], tuple[str, str, str | None]]
_numbers = itertools.count(1)  # each drive's requests are numbered from a fresh block


def drive(
    port: int,
    key: str,
    request: Request,
    *,
    clients: int,
    seconds: float,
    rate: float | None = None,
) -> dict:
    """{"p50_ms", "p95_ms", "p99_ms", "rps", "errors"} of `clients` client processes sending
    `request(n)` for `seconds`, at `rate` requests/s together (open loop), or unpaced."""
    context = multiprocessing.get_context("fork")  # the request makers are closures
    answers = context.SimpleQueue()
    first = next(_numbers) * 10_000_000
    starts_at = time.monotonic() + 0.3  # every client starts together
    workers = [
        context.Process(
            target=_client,
            args=(answers, port, key, request, index, clients, seconds, rate, first, starts_at),
        )
        for index in range(clients)
    ]
    for worker in workers:
        worker.start()
    found = [answers.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = [ms for mine, _, _ in found for ms in mine]
    ended = max(end for _, _, end in found)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]).round(3).tolist()
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "rps": round(len(latencies) / (ended - starts_at), 1),
        "errors": sum(errors for _, errors, _ in found),
        "requests": len(latencies),
    }


def _client(answers, port, key, request, index, clients, seconds, rate, first, starts_at):
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = starts_at + seconds
    interval = clients / rate if rate else 0.0
    latencies, errors = [], 0
    for k in itertools.count():
        if rate:
            scheduled = starts_at + index / rate + k * interval
            if scheduled >= deadline:
                break
            if (wait := scheduled - time.monotonic()) > 0:
                time.sleep(wait)
        else:
            time.sleep(max(0.0, starts_at - time.monotonic()))
            scheduled = time.monotonic()
            if scheduled >= deadline:
                break
        method, path, body = request(first + index + clients * k)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            errors += response.status != 200
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            errors += 1
        latencies.append((time.monotonic() - scheduled) * 1000)
    connection.close()
    answers.put((latencies, errors, time.monotonic()))


def warm_up(port: int, key: str, request: Request, clients: int) -> None:
    """Send requests until every web process has the model loaded (no request of a second
    takes over a second: loading the LSTM's Keras takes seconds), at most 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if drive(port, key, request, clients=clients, seconds=1.0)["p99_ms"] < 1000:
            return
