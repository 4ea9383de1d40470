"""The staff page of serving: each model's latency, rate, errors and cache hits, the models
each web process holds, and a button that clears the caches. Others get a 404: the page's
existence is nobody else's business."""

import redis
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import serving
from .api.serving import REDIS_DOWN, metrics_report


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise Http404("No such page.")


@login_required
def serving_page(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    try:
        report, error = metrics_report(), None
    except redis.RedisError:
        report, error = None, REDIS_DOWN
    return render(
        request,
        "analysis/serving.html",
        {"report": report, "error": error},
        status=503 if error else 200,
    )


@login_required
@require_POST
def serving_clear(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    try:
        removed = serving.clear_caches()
    except redis.RedisError:
        messages.error(request, REDIS_DOWN)
    else:
        messages.success(
            request,
            f"Caches cleared: {removed} cached answer{'s' if removed != 1 else ''} removed; "
            "every web process drops its loaded models on its next request.",
        )
    return redirect("serving_page")
