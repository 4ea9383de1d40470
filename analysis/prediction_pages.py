"""The pages of a file of records scored in the background: the upload (a form on the
prediction page), the progress (refreshed by htmx) and the download of the scored CSV."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .batch_predictions import BatchPrediction, BatchRefused
from .models import CandidateResult
from .prediction_files import batch_prediction_create


@login_required
@require_POST
def prediction_file_upload(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run"), pk=pk, run__owner=request.user
    )
    try:
        batch = batch_prediction_create(candidate=candidate, upload=request.FILES.get("file"))
    except BatchRefused as exc:
        details = [f"{name}: {'; '.join(found)}" for name, found in exc.fields.items()]
        messages.error(request, " ".join([exc.sentence, *details[1:4]]))
        return redirect("candidate_predict", pk)
    return redirect("prediction_file_page", batch.pk)


@login_required
def prediction_file_page(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(
        BatchPrediction.objects.select_related("candidate__run"), pk=pk, owner=request.user
    )
    template = "analysis/_prediction_file.html" if request.htmx else "analysis/prediction_file.html"
    return render(request, template, {"batch": batch, "candidate": batch.candidate})


@login_required
def prediction_file_download(request: HttpRequest, pk: int) -> FileResponse:
    batch = get_object_or_404(BatchPrediction, pk=pk, owner=request.user)
    if batch.status != BatchPrediction.Status.SUCCEEDED:
        raise Http404("This file is not scored yet.")
    return FileResponse(
        batch.result_file.open("rb"),
        as_attachment=True,
        filename=batch.result_name(),
        content_type="text/csv",
    )
