"""Dataset pages: the home page (your datasets and runs, the upload box, the examples),
upload, the dataset's page (profile, findings, the run form), reading the file again,
renaming and deleting. views.py holds the run and candidate pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import limits, selectors, services
from .examples import BY_SLUG, EXAMPLES, example_csv
from .forms import (
    ReadOptionsForm,
    RunForm,
    UploadForm,
)
from .models import Dataset


def _home_context(request: HttpRequest, upload_form: UploadForm) -> dict:
    return {
        "datasets": selectors.datasets_of(request.user),
        "runs": selectors.runs_with_best(request.user),
        "upload_form": upload_form,
        "examples": EXAMPLES,
        "max_upload_bytes": limits.limits_for(request.user.pk).max_upload_bytes,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "analysis/home.html", _home_context(request, UploadForm()))


@login_required
@require_POST
def example_create(request: HttpRequest, slug: str) -> HttpResponse:
    """One click: store a bundled example table as the user's dataset and open it."""
    example = BY_SLUG.get(slug)
    if example is None:
        raise Http404("No such example dataset.")
    try:
        dataset = services.dataset_create_from_path(
            owner=request.user, path=example_csv(example), name=example.filename
        )
    except services.ServiceError as exc:  # over the user's storage quota
        messages.error(request, str(exc))
        return redirect("home")
    return redirect("dataset_detail", dataset.pk)


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
    return render(request, "analysis/home.html", _home_context(request, form), status=400)


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
                    metric=form.cleaned_data["metric"],
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
    context = {
        "dataset": dataset,
        "form": form,
        "findings": selectors.dataset_findings(dataset),
        "columns": selectors.column_cards(dataset),
        "preview": selectors.dataset_preview(dataset),
        "suggested_target": selectors.suggested_target(dataset),
        "sample_options": selectors.sample_options(dataset),
        "runs": selectors.dataset_runs(dataset),
        "read_form": ReadOptionsForm(initial=dataset.read_options or None),
    }
    return render(request, "analysis/dataset.html", context, status=status)


@login_required
@require_POST
def dataset_reprofile(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the stored file again with the user's overrides."""
    dataset = get_object_or_404(Dataset, pk=pk, owner=request.user)
    form = ReadOptionsForm(request.POST)
    if form.is_valid():
        try:
            services.dataset_reprofile(dataset=dataset, options=form.options())
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, "Reading the file again with your settings.")
    else:
        # As plain text: the page escapes messages, and as_text() would escape twice.
        problems = [
            f"{form.fields[name].label}: {message}" if name in form.fields else message
            for name, errors in form.errors.items()
            for message in errors
        ]
        messages.error(request, "Check the reading options. " + " ".join(problems))
    return redirect("dataset_detail", dataset.pk)


@login_required
@require_POST
def dataset_rename(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk, owner=request.user)
    try:
        services.dataset_rename(dataset=dataset, name=request.POST.get("name", ""))
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Renamed to “{dataset.name}”.")
    return redirect("dataset_detail", dataset.pk)


def _run_form(dataset: Dataset, data) -> RunForm:
    columns = [c["name"] for c in dataset.profile["columns"]]
    dates = [c["name"] for c in dataset.profile["columns"] if c.get("kind") == "datetime"]
    suggestion = selectors.suggested_target(dataset)
    target = suggestion.column if suggestion else columns[-1]
    small = (dataset.row_count or 0) <= settings.PROMISE_DEFAULT_SAMPLE_ROWS
    initial = {"target": target, "sample": "full" if small else "default"}
    return RunForm(data, columns=columns, time_columns=dates, initial=initial)


@login_required
@require_POST
def dataset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk, owner=request.user)
    services.dataset_delete(dataset=dataset)
    messages.success(request, f"Deleted {dataset.name}.")
    return redirect("home")
