"""The Celery side of the use cases: which task follows which, and sending them.

Tasks are sent by name, not imported: the tasks call the services and the services call
this module, so importing the task functions here would close a loop. The names are the
ones `@shared_task` gives, which the queue routes in settings also use.
"""

from __future__ import annotations

from celery import chain, chord
from celery.canvas import Signature

from promise.celery import app

from .automl.candidates import CANDIDATES

PROFILE_DATASET = "analysis.tasks.profile_dataset"
PREPARE_SAMPLE = "analysis.tasks.prepare_sample"
TRAIN_CANDIDATE = "analysis.tasks.train_candidate"
PLAN_SECOND_ROUND = "analysis.tasks.plan_second_round"
EXTEND_CANDIDATE = "analysis.tasks.extend_candidate"
RANK_AND_EXPLAIN = "analysis.tasks.rank_and_explain"
CONFIRM_CANDIDATES = "analysis.tasks.confirm_candidates"


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


def send_profile(dataset_id: int) -> None:
    _task(PROFILE_DATASET, dataset_id).apply_async()


def send_run(run_id: int, *, time_budget: int) -> None:
    run_pipeline(run_id, time_budget=time_budget).apply_async()


def send_second_round(run_id: int, names: list[str], *, time_budget: int) -> None:
    second_round_pipeline(run_id, names, time_budget=time_budget).apply_async()


def send_confirmation(run_id: int, candidate_ids: list[int]) -> None:
    _task(CONFIRM_CANDIDATES, run_id, candidate_ids).apply_async()


def terminate(task_ids: list[str]) -> None:
    """Kill the worker processes running these tasks (their messages come back, and the
    tasks then end at once, their work being no longer wanted)."""
    app.control.revoke(task_ids, terminate=True, signal="SIGKILL")
