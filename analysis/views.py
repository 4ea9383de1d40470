"""Pages. Each view checks ownership, validates with a form and calls one service."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services, serving
from .automl.metrics import METRIC_LABELS
from .forms import RunForm, SignupForm, UploadForm
from .highlight import highlight_file
from .models import CandidateResult, Dataset


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "analysis/home.html",
        {
            "datasets": selectors.datasets_of(request.user),
            "runs": selectors.runs_of(request.user)[:20],
            "upload_form": UploadForm(),
        },
    )


@login_required
@require_POST
def dataset_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            dataset = services.dataset_upload(
                owner=request.user, uploaded_file=form.cleaned_data["file"]
            )
        except services.ServiceError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("dataset_detail", dataset.pk)
    context = {
        "datasets": selectors.datasets_of(request.user),
        "runs": selectors.runs_of(request.user)[:20],
        "upload_form": form,
    }
    return render(request, "analysis/home.html", context, status=400)


@login_required
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk, owner=request.user)
    form = None
    if dataset.status == Dataset.Status.READY:
        form = _run_form(dataset, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.run_start(
                    owner=request.user,
                    dataset=dataset,
                    target=form.cleaned_data["target"],
                    task=form.cleaned_data["task"],
                    sample_size=form.sample_size(),
                    time_budget=form.cleaned_data["time_budget"],
                    excluded_columns=form.cleaned_data["excluded_columns"],
                    sample_strategy=form.cleaned_data["sample_strategy"],
                    time_column=form.cleaned_data["time_column"],
                )
            except services.ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("run_detail", run.pk)
    if request.htmx:
        response = render(request, "analysis/_dataset_status.html", {"dataset": dataset})
        if dataset.status in (Dataset.Status.READY, Dataset.Status.FAILED):
            response["HX-Refresh"] = "true"  # the whole page changes once the profile is done
        return response
    status = 400 if form is not None and form.errors else 200
    return render(
        request, "analysis/dataset.html", {"dataset": dataset, "form": form}, status=status
    )


def _run_form(dataset: Dataset, data) -> RunForm:
    columns = [c["name"] for c in dataset.profile["columns"]]
    dates = [c["name"] for c in dataset.profile["columns"] if c.get("kind") == "datetime"]
    return RunForm(data, columns=columns, time_columns=dates, initial={"target": columns[-1]})


@login_required
@require_POST
def dataset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk, owner=request.user)
    services.dataset_delete(dataset=dataset)
    messages.success(request, f"Deleted {dataset.name}.")
    return redirect("home")


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    context = {
        "run": run,
        "candidates": selectors.leaderboard(run),
        "metric_label": METRIC_LABELS.get(run.metric, run.metric),
        "metric_labels": METRIC_LABELS,
    }
    template = "analysis/_run_status.html" if request.htmx else "analysis/run.html"
    return render(request, template, context)


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    if services.run_cancel(run=run):
        messages.info(request, "The run was cancelled.")
    return redirect("run_detail", run.pk)


@login_required
@require_POST
def run_retry(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    try:
        new_run = services.run_retry(run=run)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("run_detail", run.pk)
    return redirect("run_detail", new_run.pk)


@login_required
def candidate_export_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Every file of the export, highlighted, with the download button."""
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run__dataset"), pk=pk, run__owner=request.user
    )
    try:
        files = services.export_files(candidate=candidate)
    except services.ServiceError as exc:
        raise Http404(str(exc)) from exc
    previews = [(name, highlight_file(name, text)) for name, text in files.items()]
    return render(request, "analysis/export.html", {"candidate": candidate, "previews": previews})


@login_required
@require_POST
def candidate_export(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    try:
        export = services.export_build(candidate=candidate)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("run_detail", candidate.run_id)
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1]
    )


@login_required
def candidate_predict(request: HttpRequest, pk: int) -> HttpResponse:
    """A form with one field per feature column; answers with the model's prediction."""
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run__dataset"), pk=pk, run__owner=request.user
    )
    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise Http404("This candidate has no trained model.")
    columns = serving.feature_columns(candidate)
    if request.method == "POST":
        values = {c: request.POST.get(c, "") for c in columns}
    else:
        example = ((candidate.run.dataset.profile or {}).get("preview") or [{}])[0]
        values = {c: "" if example.get(c) is None else str(example[c]) for c in columns}
    result = error = None
    if request.method == "POST":
        row = {c: (v if v != "" else None) for c, v in values.items()}
        try:
            result = serving.predict_rows(candidate, [row])
        except serving.PredictionError as exc:
            error = str(exc)
    fields = [(f"feature-{i}", c, values[c]) for i, c in enumerate(columns)]
    context = {"candidate": candidate, "fields": fields, "result": result, "error": error}
    return render(request, "analysis/predict.html", context)
