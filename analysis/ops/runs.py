"""The dashboard's panels about work: runs by state and per day, recent failures with
their tracebacks, and stuck runs with what staff can do about them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import plotly.graph_objects as go
from django.conf import settings
from django.db.models import Count, Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from .. import audit, reconcile
from ..failures import FailureTrace
from ..figures import PALETTE, Figure
from ..models import CandidateResult, Dataset, Run
from ..services import run_fail

DAYS = 14
# Ended runs in the colours a reader expects; the active ones in the palette's blue family.
STATE_COLORS = {
    Run.Status.SUCCEEDED: "#1b7a3d",
    Run.Status.FAILED: "#b3261e",
    Run.Status.CANCELLED: "#8a8f98",
    Run.Status.QUEUED: "#9db4f0",
    Run.Status.SAMPLING: "#6b8fe6",
    Run.Status.TRAINING: PALETTE[0],
    Run.Status.RANKING: "#0f8b8d",
}
FAILURES = 15
STOPPED_BY_STAFF = (
    "This run made no progress for {minutes:,.0f} minutes, so an administrator stopped it. "
    "Retry it to start again."
)


def runs_by_state() -> list[dict]:
    counts = dict(Run.objects.values_list("status").annotate(n=Count("pk")))
    return [{"state": label, "count": counts.get(value, 0)} for value, label in Run.Status.choices]


def runs_per_day(today=None) -> Figure:
    """Runs started on each of the last DAYS days, stacked by their state now."""
    today = today or timezone.localdate()
    first = today - timedelta(days=DAYS - 1)
    rows = (
        Run.objects.filter(created_at__date__gte=first)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
    )
    days = [first + timedelta(days=k) for k in range(DAYS)]
    counts = {(day, status): n for day, status, n in rows}
    fig = go.Figure()
    for value, label in Run.Status.choices:
        ys = [counts.get((day, value), 0) for day in days]
        if any(ys):
            color = STATE_COLORS.get(value, PALETTE[0])
            fig.add_trace(
                go.Bar(name=label, x=[d.isoformat() for d in days], y=ys, marker_color=color)
            )
    fig.update_layout(
        barmode="stack",
        template="plotly_white",
        height=280,
        margin={"l": 40, "r": 8, "t": 8, "b": 40},
        font={"family": "system-ui, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.2},
        yaxis_title="runs",
    )
    return Figure(
        "ops-runs-per-day",
        "Runs per day",
        f"Runs started on each of the last {DAYS} days, by their state now.",
        json.loads(fig.to_json()),
    )


@dataclass(frozen=True)
class Failure:
    at: datetime | None
    what: str
    owner: str
    sentence: str
    traceback: str
    run_id: int | None = None
    dataset_id: int | None = None


def recent_failures(limit: int = FAILURES) -> list[Failure]:
    """The latest failed datasets, runs and candidates: the sentence their owner saw and
    the traceback behind it, when it was one of ours."""
    traces = {}
    for trace in FailureTrace.objects.order_by("-created_at")[: limit * 4]:
        traces.setdefault((trace.kind, trace.dataset_id, trace.run_id, trace.candidate), trace)

    def trace(*key) -> str:
        found = traces.get(key)
        return found.traceback if found else ""

    found = [
        Failure(
            run.finished_at,
            f"Run {run.pk} ({run.target} in {run.dataset.name})",
            run.owner.username,
            run.error,
            trace("run", None, run.pk, ""),
            run_id=run.pk,
        )
        for run in Run.objects.filter(status=Run.Status.FAILED)
        .select_related("owner", "dataset")
        .order_by("-finished_at")[:limit]
    ]
    found += [
        Failure(
            c.finished_at or c.run.finished_at,
            f"{c.label or c.name} in run {c.run_id}",
            c.run.owner.username,
            c.error,
            trace("candidate", None, c.run_id, c.name),
            run_id=c.run_id,
        )
        for c in CandidateResult.objects.filter(status=CandidateResult.Status.FAILED)
        .select_related("run__owner")
        .order_by("-pk")[:limit]
    ]
    found += [
        Failure(
            d.updated_at,
            f"Dataset {d.pk} ({d.name})",
            d.owner.username,
            d.error,
            trace("dataset", d.pk, None, ""),
            dataset_id=d.pk,
        )
        for d in Dataset.objects.filter(status=Dataset.Status.FAILED)
        .select_related("owner")
        .order_by("-updated_at")[:limit]
    ]
    epoch = timezone.make_aware(datetime(1970, 1, 1))
    return sorted(found, key=lambda f: f.at or epoch, reverse=True)[:limit]


@dataclass(frozen=True)
class StuckRun:
    run: Run
    last_progress: datetime
    idle_seconds: float
    no_live_task: bool


def stuck_runs(now=None) -> list[StuckRun]:
    """Active runs with no progress for PROMISE_STUCK_RUN_SECONDS: nothing started, ended
    or renewed a lease since (a training worker renews its lease every few seconds)."""
    now = now or timezone.now()
    limit = settings.PROMISE_STUCK_RUN_SECONDS
    lease = timedelta(seconds=settings.PROMISE_CANDIDATE_LEASE_SECONDS)
    runs = (
        Run.objects.filter(status__in=Run.ACTIVE)
        .select_related("owner", "dataset")
        .annotate(
            started=Max("candidates__started_at"),
            finished=Max("candidates__finished_at"),
            leased=Max("candidates__lease_expires_at"),
        )
        .order_by("created_at")
    )
    try:
        suspects = set(reconcile.state()["suspects"])
    except Exception:  # Redis down: the activity alone decides
        suspects = set()
    found = []
    for run in runs:
        moments = [run.created_at, run.started_at, run.started, run.finished]
        if run.leased:
            moments.append(run.leased - lease)
        last = max(m for m in moments if m is not None)
        idle = (now - last).total_seconds()
        if idle > limit:
            found.append(StuckRun(run, last, idle, f"run:{run.pk}" in suspects))
    return found


def stuck_run_requeue(*, run: Run) -> bool:
    """Send the step that continues the run, as the reconciler would; False if it ended.

    Each step claims its work, so a copy of a task still alive somewhere is harmless."""
    run.refresh_from_db()
    if not run.is_active:
        return False
    reconcile.send_next_step(run)
    return True


def stuck_run_fail(*, run: Run) -> bool:
    run.refresh_from_db()
    if not run.is_active:
        return False
    minutes = settings.PROMISE_STUCK_RUN_SECONDS / 60
    run_fail(run_id=run.pk, message=STOPPED_BY_STAFF.format(minutes=minutes))
    # The staff member acting is read from the request being served.
    audit.record(audit.AuditEntry.Action.CANCEL, target=run, detail="failed as stuck on /ops/")
    return True
