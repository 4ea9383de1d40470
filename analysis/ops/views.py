"""`/ops/`: the operations dashboard for staff. The page holds one panel per question
(what runs, what waits, which worker lives, what failed, what is stuck, who uses how
much, how fast serving is, is everything up); each panel is a fragment that htmx fetches
and refreshes on its own, so a slow or absent broker holds only its own panel.

Everyone else gets nothing: anonymous visitors are sent to log in, signed-in users who
are not staff get a 404, for the page, every fragment and every action.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..health import healthz
from ..models import Run
from ..workflow import BrokerUnavailable
from . import runs, system

# Each panel: what it computes, and how often (seconds) the page asks for it again.
PANELS: dict[str, tuple[Callable[[HttpRequest], dict], int]] = {}


def panel(name: str, every: int):
    def register(build):
        PANELS[name] = (build, every)
        return build

    return register


def staff_only(view):
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


@panel("health", 10)
def _health(request):
    return {"health": json.loads(healthz(request).content)}


@panel("runs", 15)
def _runs(request):
    return {"states": runs.runs_by_state(), "figure": runs.runs_per_day()}


@panel("queues", 3)
def _queues(request):
    return {"queues": system.queue_depths()}


@panel("workers", 5)
def _workers(request):
    return {"workers": system.workers()}


@panel("stuck", 10)
def _stuck(request):
    return {"stuck": runs.stuck_runs(), "limit_minutes": settings.PROMISE_STUCK_RUN_SECONDS / 60}


@panel("serving", 5)
def _serving(request):
    return {"serving": system.serving()}


@panel("failures", 15)
def _failures(request):
    return {"failures": runs.recent_failures()}


@panel("storage", 60)
def _storage(request):
    return {"storage": system.storage()}


@staff_only
def dashboard(request: HttpRequest) -> HttpResponse:
    panels = [{"name": name, "every": every} for name, (_, every) in PANELS.items()]
    return render(request, "ops/dashboard.html", {"panels": panels})


@staff_only
def ops_panel(request: HttpRequest, name: str) -> HttpResponse:
    if name not in PANELS:
        raise Http404("No such panel.")
    return _render_panel(request, name)


def _render_panel(request: HttpRequest, name: str) -> HttpResponse:
    build, _ = PANELS[name]
    try:
        context = build(request)
    except system.Unavailable as exc:
        context = {"unavailable": str(exc)}
    return render(request, f"ops/_{name}.html", context)


def _act(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    run = get_object_or_404(Run, pk=pk)
    try:
        acted = action(run=run)
    except BrokerUnavailable as exc:  # said in the panel, which htmx swaps only on a 2xx
        messages.error(request, str(exc))
    else:
        if acted:
            messages.success(request, done.format(pk=pk))
        else:
            messages.info(request, f"Run {pk} had already ended: nothing was done.")
    if request.htmx:
        return _render_panel(request, "stuck")
    return redirect("ops_dashboard")


@staff_only
@require_POST
def stuck_run_requeue(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, runs.stuck_run_requeue, "Run {pk}'s next step was sent again.")


@staff_only
@require_POST
def stuck_run_fail(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, runs.stuck_run_fail, "Run {pk} was failed; its owner can retry it.")
