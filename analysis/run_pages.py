"""The run page's delete button (views.py holds the run's other pages)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from . import selectors, services


@login_required
@require_POST
def run_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the run with its models and exports; back to its dataset's page."""
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    services.run_delete(run=run)
    messages.success(request, f"Deleted run #{pk}.")
    return redirect("dataset_detail", run.dataset_id)
