"""The reconciler: work whose task was never sent, or vanished, is sent again or failed.

A row in a non-final state is the record of work to do; its Celery message is only a
means. The message can be missing: sending failed while the broker was down (the page
answered 503), a Redis restarted without its data (the queues and a chord's counter
gone), a worker's machine vanished. Celery beat runs `reconcile` every
PROMISE_RECONCILE_SECONDS; each pass finds the rows that no live task is working on
(analysis/liveness.py) and, for a row found so on two passes in a row (so a message in
flight between the database's commit and the broker is never taken for lost), sends the
step that continues it:

    dataset uploaded or profiling        profile_dataset
    run queued or sampling               the whole pipeline (preparing claims it again)
    run training, candidates unfinished  those candidates' searches, then the plan
    run training, second round pending   those searches again, then ranking
    run training, every search ended     plan_second_round (it ranks when nothing is left)
    run ranking                          rank_and_explain
    confirmation queued or running       confirm_candidates
    file of records queued or scoring    score_prediction_file (scoring starts over)

A lost task is thus detected and continued within 2 × PROMISE_RECONCILE_SECONDS of the
broker answering again (for a candidate in training: of its lease lapsing). Each
step's own claim makes a second copy harmless. After PROMISE_RECONCILE_ATTEMPTS sends
for one row, the row is failed with a sentence instead.

What a pass found is kept in Redis (suspects, send counts, the last pass), where
/healthz reads it; losing it with Redis only delays the next verdict by one pass.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings
from django.utils import timezone

from . import workflow
from .batch_predictions import BatchPrediction
from .liveness import Alive, CannotTell, live_tasks
from .models import CandidateResult, Dataset, Run
from .services import run_fail

log = logging.getLogger(__name__)

SUSPECTS = "promise:reconcile:suspects"  # row key -> when first found with no live task
SENT = "promise:reconcile:sent"  # row key -> times its work was sent again
LAST_PASS = "promise:reconcile:last"
LOCK = "promise:reconcile:lock"

RUN_TASKS = (
    workflow.PREPARE_SAMPLE,
    workflow.TRAIN_CANDIDATE,
    workflow.PLAN_SECOND_ROUND,
    workflow.EXTEND_CANDIDATE,
    workflow.RANK_AND_EXPLAIN,
    workflow.CONFIRM_CANDIDATES,
)
LOST = "(the task queue restarted without it, or its worker went away)"
DATASET_GIVEN_UP = (
    "Reading this file was lost {times} times " + LOST + ", so PROMISE stopped trying. "
    "Use “Read the file again” to try once more."
)
RUN_GIVEN_UP = (
    "This run's work was lost {times} times " + LOST + ", so the run was stopped. "
    "Retry it to start again."
)
CONFIRM_GIVEN_UP = (
    "Scoring on the whole file was lost {times} times " + LOST + ", so it was stopped. "
    "Ask for it again to try once more."
)
BATCH_GIVEN_UP = (
    "Scoring this file was lost {times} times " + LOST + ", so it was stopped. "
    "Upload it again to try once more."
)
# The non-final states of what a pass looks after besides runs (Run.ACTIVE).
DATASET_ACTIVE = (Dataset.Status.UPLOADED, Dataset.Status.PROFILING)
CONFIRM_ACTIVE = (CandidateResult.Confirmation.QUEUED, CandidateResult.Confirmation.RUNNING)
BATCH_ACTIVE = (BatchPrediction.Status.QUEUED, BatchPrediction.Status.RUNNING)


@dataclass(frozen=True)
class Orphan:
    """A row no live task is working on, and the step that continues it."""

    kind: str  # "dataset", "run", "confirm" (a run's confirmations) or "batch" (a file)
    pk: int
    step: str
    names: tuple = ()  # candidate names (training, second round) or ids (confirm)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


def find_orphans(alive: Alive, now=None) -> list[Orphan]:
    """The rows in a non-final state that none of the `alive` tasks is working on."""
    now = now or timezone.now()
    orphans = [
        Orphan("dataset", pk, "profile")
        for pk in Dataset.objects.filter(status__in=DATASET_ACTIVE).values_list("pk", flat=True)
        if (workflow.PROFILE_DATASET, pk) not in alive
    ]
    # A candidate whose lease a live worker renews is alive even when its message is not.
    leased = set(
        CandidateResult.objects.filter(
            status=CandidateResult.Status.RUNNING, lease_expires_at__gt=now
        ).values_list("run_id", flat=True)
    )
    for run in Run.objects.filter(status__in=Run.ACTIVE).exclude(pk__in=leased):
        if not any((name, run.pk) in alive for name in RUN_TASKS):
            orphans.append(_run_step(run))
    waiting = CandidateResult.objects.filter(confirm_status__in=CONFIRM_ACTIVE).order_by(
        "run_id", "position"
    )
    confirming: dict[int, list[int]] = {}
    for run_id, pk in waiting.values_list("run_id", "pk"):
        confirming.setdefault(run_id, []).append(pk)
    orphans += [
        Orphan("confirm", run_id, "confirm", tuple(ids))
        for run_id, ids in confirming.items()
        if (workflow.CONFIRM_CANDIDATES, run_id) not in alive
    ]
    orphans += [
        Orphan("batch", pk, "score")
        for pk in BatchPrediction.objects.filter(status__in=BATCH_ACTIVE).values_list(
            "pk", flat=True
        )
        if (workflow.SCORE_PREDICTION_FILE, pk) not in alive
    ]
    return orphans


def _run_step(run: Run) -> Orphan:
    if run.status in (Run.Status.QUEUED, Run.Status.SAMPLING):
        return Orphan("run", run.pk, "pipeline")
    if run.status == Run.Status.RANKING:
        return Orphan("run", run.pk, "rank")
    candidates = run.candidates.order_by("position")
    unfinished = candidates.filter(
        status__in=[CandidateResult.Status.PENDING, CandidateResult.Status.RUNNING]
    )
    if names := tuple(unfinished.values_list("name", flat=True)):
        return Orphan("run", run.pk, "training", names)
    pending = list(
        candidates.filter(
            second_round__in=[
                CandidateResult.SecondRound.QUEUED,
                CandidateResult.SecondRound.RUNNING,
            ]
        ).values_list("name", flat=True)
    )
    if pending:
        # The longest planned search first (a stored object's key order is not kept by
        # PostgreSQL's jsonb, so the plan's own order cannot be read back).
        seconds = (run.second_round or {}).get("seconds", {})
        names = tuple(sorted(pending, key=lambda name: -seconds.get(name, 0)))
        return Orphan("run", run.pk, "second_round", names)
    return Orphan("run", run.pk, "plan")


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, decode_responses=True)


def reconcile(now: float | None = None) -> dict:
    """One pass: find the orphans, send again (or fail) those found on the pass before.

    Returns what it did, as also kept for /healthz."""
    client = _client()
    token = uuid.uuid4().hex
    interval = settings.PROMISE_RECONCILE_SECONDS
    if not client.set(LOCK, token, nx=True, ex=max(60, round(interval * 2))):
        return {"skipped": "another pass is running"}
    try:
        return _pass(client, now or time.time(), interval)
    finally:
        if client.get(LOCK) == token:
            client.delete(LOCK)


def _pass(client: redis.Redis, now: float, interval: float) -> dict:
    report: dict = {"at": now, "orphans": [], "sent": [], "failed": []}
    try:
        orphans = find_orphans(live_tasks())
    except CannotTell as exc:
        report["skipped"] = str(exc)
        client.set(LAST_PASS, json.dumps(report))
        return report
    previous = {key: float(at) for key, at in client.hgetall(SUSPECTS).items()}
    suspects = {}
    for orphan in orphans:
        report["orphans"].append(orphan.key)
        first_seen = previous.get(orphan.key, now)
        if now - first_seen < interval / 2 or "skipped" in report:
            suspects[orphan.key] = first_seen  # first seen on this pass (or no broker): next time
            continue
        try:
            outcome = _continue(client, orphan)
        except workflow.BrokerUnavailable:
            suspects[orphan.key] = first_seen
            report["skipped"] = "the broker stopped answering during the pass"
            continue
        except Exception:  # e.g. the row was deleted meanwhile: the others still go on
            log.exception("The reconciler could not continue %s", orphan.key)
            continue
        report[outcome].append(orphan.key)
    pipe = client.pipeline()
    pipe.delete(SUSPECTS)
    if suspects:
        pipe.hset(SUSPECTS, mapping=suspects)
    pipe.set(LAST_PASS, json.dumps(report))
    pipe.execute()
    _forget_finished(client)
    if report["sent"] or report["failed"]:
        log.warning("Reconciler sent %s again and failed %s", report["sent"], report["failed"])
    return report


def _continue(client: redis.Redis, orphan: Orphan) -> str:
    """Send the orphan's next step, or fail it once it was sent too many times."""
    times = int(client.hget(SENT, orphan.key) or 0)
    if times >= settings.PROMISE_RECONCILE_ATTEMPTS:
        _give_up(orphan, times)
        client.hdel(SENT, orphan.key)
        return "failed"
    _send(orphan)
    client.hincrby(SENT, orphan.key, 1)
    return "sent"


def _send(orphan: Orphan) -> None:
    if orphan.kind == "dataset":
        workflow.send_profile(orphan.pk)
    elif orphan.kind == "confirm":
        workflow.send_confirmation(orphan.pk, list(orphan.names))
    elif orphan.kind == "batch":
        workflow.send_scoring(orphan.pk)
    else:
        budget = Run.objects.values_list("time_budget", flat=True).get(pk=orphan.pk)
        if orphan.step == "pipeline":
            workflow.send_run(orphan.pk, time_budget=budget)
        elif orphan.step == "training":
            workflow.send_training(orphan.pk, list(orphan.names), time_budget=budget)
        elif orphan.step == "second_round":
            workflow.send_second_round(orphan.pk, list(orphan.names), time_budget=budget)
        elif orphan.step == "plan":
            workflow.send_step(workflow.PLAN_SECOND_ROUND, orphan.pk)
        else:
            workflow.send_step(workflow.RANK_AND_EXPLAIN, orphan.pk)


def send_next_step(run: Run) -> None:
    """Send the step that continues an active run, as a pass does for a lost one (staff's
    requeue on the operations dashboard)."""
    _send(_run_step(run))


def _give_up(orphan: Orphan, times: int) -> None:
    if orphan.kind == "dataset":
        Dataset.objects.filter(pk=orphan.pk, status__in=DATASET_ACTIVE).update(
            status=Dataset.Status.FAILED, error=DATASET_GIVEN_UP.format(times=times)
        )
    elif orphan.kind == "confirm":
        CandidateResult.objects.filter(
            pk__in=orphan.names, confirm_status__in=CONFIRM_ACTIVE
        ).update(
            confirm_status=CandidateResult.Confirmation.FAILED,
            confirm_error=CONFIRM_GIVEN_UP.format(times=times),
        )
    elif orphan.kind == "batch":
        BatchPrediction.objects.filter(pk=orphan.pk, status__in=BATCH_ACTIVE).update(
            status=BatchPrediction.Status.FAILED,
            error=BATCH_GIVEN_UP.format(times=times),
            finished_at=timezone.now(),
        )
    else:
        run_fail(run_id=orphan.pk, message=RUN_GIVEN_UP.format(times=times))


def _forget_finished(client: redis.Redis) -> None:
    """Drop the send counts of rows that ended (or were deleted)."""
    counted = client.hkeys(SENT)
    if not counted:
        return
    active = (
        {f"dataset:{pk}" for pk in _ids(Dataset, status__in=DATASET_ACTIVE)}
        | {f"run:{pk}" for pk in _ids(Run, status__in=Run.ACTIVE)}
        | {
            f"confirm:{pk}"
            for pk in _ids(CandidateResult, "run_id", confirm_status__in=CONFIRM_ACTIVE)
        }
        | {f"batch:{pk}" for pk in _ids(BatchPrediction, status__in=BATCH_ACTIVE)}
    )
    if ended := [key for key in counted if key not in active]:
        client.hdel(SENT, *ended)


def _ids(model, field: str = "pk", **where) -> set[int]:
    return set(model.objects.filter(**where).values_list(field, flat=True))


def state() -> dict:
    """What the last pass found, for /healthz: when it ran, and the rows with no live task."""
    client = _client()
    last = client.get(LAST_PASS)
    return {"last": json.loads(last) if last else None, "suspects": sorted(client.hkeys(SUSPECTS))}
