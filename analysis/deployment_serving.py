"""Answering a deployment's predictions: which arm answers, and the challenger on the side.

Which arm answers a request (split mode):
- a request that names an arm ("arm": "champion" or "challenger") gets that arm, and is
  never shadowed: it is a direct question to one model;
- a request that sends a "request_id" is assigned by it: the SHA-256 of the deployment's
  id and the request id, read as a number from 0 to 9,999, goes to the challenger when it
  is below 100 × challenger_percent. The same id always lands on the same arm (for a
  given split), so a client that sends a user's or session's id keeps that user on one
  model, and retries of one request get the same model;
- any other request is drawn at random with the same odds.
A split of 0 or 100 sends everything to one arm whatever the request id.

Shadow mode: the champion answers; the same rows are then given to the challenger by a
single background thread of this process, after the champion's answer is ready, so the
response never waits for the challenger. Its queue holds SHADOW_BACKLOG requests; when
it is full the side call is skipped and counted (a slow challenger cannot pile up work
or memory), never made inline. The thread uses no database connection: the candidates
it needs are read by the request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import random
import threading
import time

from . import deployment_metrics, serving
from .deployments import Deployment
from .prediction_input import InputRefused

log = logging.getLogger(__name__)

SHADOW_BACKLOG = 256
ARMS = deployment_metrics.ARMS


def choose_arm(
    deployment: Deployment, *, arm: str | None = None, request_id: str | None = None
) -> tuple[str, str]:
    """The arm that answers, and how it was chosen: forced, shadow, split, request_id or
    random."""
    if arm is not None:
        return arm, "forced"
    if deployment.mode == Deployment.Mode.SHADOW:
        return "champion", "shadow"
    percent = deployment.challenger_percent
    if percent in (0, 100):
        return ("challenger" if percent == 100 else "champion"), "split"
    if request_id is not None:
        digest = hashlib.sha256(f"{deployment.pk}:{request_id}".encode()).digest()
        draw, how = int.from_bytes(digest[:8], "big") % 10_000, "request_id"
    else:
        draw, how = random.randrange(10_000), "random"
    return ("challenger" if draw < percent * 100 else "champion"), how


def predict(
    deployment: Deployment,
    rows: list[dict],
    *,
    arm: str | None = None,
    request_id: str | None = None,
) -> dict:
    """The answering arm's predictions for `rows`, checked against that arm's model (as
    the candidates' predict API checks them), saying which arm and model answered; raises
    InputRefused or serving.PredictionError as serving does (counted as that arm's
    error)."""
    chosen, how = choose_arm(deployment, arm=arm, request_id=request_id)
    candidate = deployment.champion if chosen == "champion" else deployment.challenger
    result = _timed(deployment.pk, chosen, candidate, rows, shadow=False)
    shadowed = how == "shadow"
    if shadowed and not SHADOWS.submit(
        lambda: _shadow(deployment.pk, deployment.challenger, rows, result)
    ):
        deployment_metrics.record_skipped(deployment.pk)
        shadowed = False
    return {
        "deployment": deployment.pk,
        "arm": chosen,
        "candidate": candidate.pk,
        "assigned_by": how,
        "shadowed": shadowed,
        **result,
    }


def _timed(deployment_id: int, arm: str, candidate, rows: list[dict], *, shadow: bool) -> dict:
    started = time.perf_counter()
    try:
        result = serving.predict_checked(candidate, rows)
    except Exception:
        seconds = time.perf_counter() - started
        deployment_metrics.record(deployment_id, arm, seconds, result=None, shadow=shadow)
        raise
    seconds = time.perf_counter() - started
    deployment_metrics.record(deployment_id, arm, seconds, result=result, shadow=shadow)
    return result


def _shadow(deployment_id: int, challenger, rows: list[dict], champion: dict) -> None:
    try:
        answer = _timed(deployment_id, "challenger", challenger, rows, shadow=True)
    except (serving.PredictionError, InputRefused):
        return  # counted as the challenger's error; nothing to compare
    deployment_metrics.record_agreement(deployment_id, champion, answer)


class ShadowQueue:
    """One background thread per process and a bounded queue of side calls."""

    def __init__(self, backlog: int):
        self._backlog = backlog
        self._lock = threading.Lock()
        self._queue: queue.Queue | None = None
        self._pid: int | None = None

    def submit(self, job) -> bool:
        """Queue `job`; False when the queue is full (the job is dropped)."""
        try:
            self._current().put_nowait(job)
        except queue.Full:
            return False
        return True

    def _current(self) -> queue.Queue:
        # A forked web worker inherits the queue but not the thread: it starts its own.
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = queue.Queue(self._backlog)
                    thread = threading.Thread(
                        target=self._work, args=(self._queue,), name="shadow", daemon=True
                    )
                    thread.start()
                    self._pid = os.getpid()
        return self._queue

    @staticmethod
    def _work(jobs: queue.Queue) -> None:
        while True:
            job = jobs.get()
            try:
                job()
            except Exception:  # a side call must never stop the thread
                log.exception("shadow prediction failed")
            finally:
                jobs.task_done()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every queued side call is done (tests, benchmarks); False on timeout."""
        jobs = self._queue
        if jobs is None:
            return True
        deadline = time.monotonic() + timeout
        with jobs.all_tasks_done:
            while jobs.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                jobs.all_tasks_done.wait(left)
        return True


SHADOWS = ShadowQueue(SHADOW_BACKLOG)
