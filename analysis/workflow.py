"""The Celery side of the use cases: which task follows which, and sending them.

Tasks are sent by name, not imported: the tasks call the services and the services call
this module, so importing the task functions here would close a loop. The names are the
ones `@shared_task` gives, which the queue routes in settings also use.
"""

from __future__ import annotations

import logging

from celery import chain, chord
from celery.canvas import Signature
from django.conf import settings
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from promise.celery import app

from .automl.candidates import CANDIDATES

PROFILE_DATASET = "analysis.tasks.profile_dataset"
PREPARE_SAMPLE = "analysis.tasks.prepare_sample"
TRAIN_CANDIDATE = "analysis.tasks.train_candidate"
PLAN_SECOND_ROUND = "analysis.tasks.plan_second_round"
EXTEND_CANDIDATE = "analysis.tasks.extend_candidate"
RANK_AND_EXPLAIN = "analysis.tasks.rank_and_explain"
CONFIRM_CANDIDATES = "analysis.tasks.confirm_candidates"
SCORE_PREDICTION_FILE = "analysis.tasks.score_prediction_file"

log = logging.getLogger(__name__)

# Sentences for a row saved while its task could not be sent; analysis/reconcile.py sends
# it once the broker answers again.
WILL_START = (
    "PROMISE's task queue is not answering right now, so {what} has not started yet. "
    "It is saved and starts by itself once the queue is back (PROMISE looks every "
    "{seconds:.0f} s); there is no need to {again}."
)


class BrokerUnavailable(Exception):  # noqa: N818 - the name says what happened
    """A task could not be sent: the broker (or the result store beside it) is down.

    Raised after the row it is for was saved; the web answers 503 with this sentence
    (analysis/middleware.py), and the reconciler sends the task later.
    """


def _broker_down(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | RedisError | OSError):
        return True
    # Celery's Redis result store gives up reconnecting with a RuntimeError.
    return isinstance(exc, RuntimeError) and isinstance(exc.__cause__, RedisError | OSError)


def _send(signature: Signature, *, what: str, again: str) -> None:
    try:
        signature.apply_async()
    except Exception as exc:
        if not _broker_down(exc):
            raise
        log.warning("Could not send %s: %s", what, exc)
        seconds = settings.PROMISE_RECONCILE_SECONDS
        raise BrokerUnavailable(WILL_START.format(what=what, seconds=seconds, again=again)) from exc


def _task(name: str, *args) -> Signature:
    """The task `name` called with exactly `args` (immutable: a chain passes it nothing)."""
    return app.signature(name, args=args, immutable=True)


def _limits(time_budget: int) -> dict:
    # A search that runs a minute past the whole run's budget is stopped (soft limit,
    # recorded as that candidate's failure), and killed 30 s later if it does not stop.
    return {"soft_time_limit": time_budget + 60, "time_limit": time_budget + 90}


def run_pipeline(run_id: int, *, time_budget: int) -> chain:
    """prepare_sample, then every candidate in parallel, then the second round's plan,
    which sends `second_round_pipeline` or ranks at once."""
    limits = _limits(time_budget)
    return chain(
        _task(PREPARE_SAMPLE, run_id),
        chord(
            [_task(TRAIN_CANDIDATE, run_id, c.name).set(**limits) for c in CANDIDATES],
            _task(PLAN_SECOND_ROUND, run_id),
        ),
    )


def second_round_pipeline(run_id: int, names: list[str], *, time_budget: int) -> chord:
    """The continued searches in parallel, in the planned order, then the ranking."""
    limits = _limits(time_budget)
    return chord(
        [_task(EXTEND_CANDIDATE, run_id, name).set(queue="train", **limits) for name in names],
        _task(RANK_AND_EXPLAIN, run_id),
    )


def training_pipeline(run_id: int, names: list[str], *, time_budget: int) -> chord:
    """These candidates' searches in parallel, then the second round's plan: the rest of
    a run whose chord was lost (analysis/reconcile.py)."""
    limits = _limits(time_budget)
    return chord(
        [_task(TRAIN_CANDIDATE, run_id, name).set(**limits) for name in names],
        _task(PLAN_SECOND_ROUND, run_id),
    )


def send_profile(dataset_id: int) -> None:
    _send(_task(PROFILE_DATASET, dataset_id), what="reading the file", again="upload it again")


def send_run(run_id: int, *, time_budget: int) -> None:
    _send(run_pipeline(run_id, time_budget=time_budget), what="the run", again="start it again")


def send_training(run_id: int, names: list[str], *, time_budget: int) -> None:
    pipeline = training_pipeline(run_id, names, time_budget=time_budget)
    _send(pipeline, what="training", again="start the run again")


def send_second_round(run_id: int, names: list[str], *, time_budget: int) -> None:
    pipeline = second_round_pipeline(run_id, names, time_budget=time_budget)
    _send(pipeline, what="the second round", again="start the run again")


def send_step(name: str, run_id: int) -> None:
    """One step of a run by itself (PLAN_SECOND_ROUND, RANK_AND_EXPLAIN)."""
    _send(_task(name, run_id), what="ranking the models", again="start the run again")


def send_confirmation(run_id: int, candidate_ids: list[int]) -> None:
    task = _task(CONFIRM_CANDIDATES, run_id, candidate_ids)
    _send(task, what="scoring on the whole file", again="ask again")


def send_scoring(batch_id: int) -> None:
    task = _task(SCORE_PREDICTION_FILE, batch_id)
    _send(task, what="scoring the file", again="upload it again")


def terminate(task_ids: list[str]) -> None:
    """Kill the worker processes running these tasks (their messages come back, and the
    tasks then end at once, their work being no longer wanted).

    With the broker down the order cannot be sent; the searches then stop by themselves
    at their next check of the run's status, so that is only logged."""
    try:
        app.control.revoke(task_ids, terminate=True, signal="SIGKILL")
    except Exception as exc:
        if not _broker_down(exc):
            raise
        log.warning("Could not tell the workers to stop tasks %s: %s", task_ids, exc)
