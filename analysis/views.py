"""Pages. Each view checks ownership, validates with a form and calls one service."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import figures, limits, selectors, services, serving
from .automl.metrics import METRIC_LABELS
from .examples import BY_SLUG, EXAMPLES, example_csv
from .forms import (
    CompareForm,
    ReadOptionsForm,
    RunForm,
    UploadForm,
    prediction_value_error,
)
from .highlight import highlight_file
from .models import CandidateResult, Dataset, Run
from .prediction_input import InputRefused


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


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    candidates = selectors.leaderboard(run)
    selectors.attach_confirmations(run, candidates)
    context = {
        "run": run,
        "candidates": candidates,
        "metric_label": METRIC_LABELS.get(run.metric, run.metric),
        "metric_labels": METRIC_LABELS,
        "live": selectors.run_progress(run, candidates),
        "charts_wanted": run.status == Run.Status.SUCCEEDED,
        "rows_sentence": selectors.rows_sentence(run),
        "metric_columns": selectors.metric_columns(run, candidates),
        "metric_first": selectors.first_sort(run.metric or "accuracy"),
    }
    if run.status == Run.Status.SUCCEEDED:
        context["run_figures"] = figures.run_figures(run, candidates)
        context["model_figures"] = [
            (c, figures.candidate_figures(c))
            for c in candidates
            if c.status == CandidateResult.Status.SUCCEEDED
        ]
        context["compare_form"] = CompareForm(candidates=candidates, run=run)
        context["other_runs"] = selectors.comparable_runs(run)
    template = "analysis/_run_status.html" if request.htmx else "analysis/run.html"
    return render(request, template, context)


@login_required
def run_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two candidates of one run side by side: scores, timings, parameters and charts."""
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    candidates = selectors.leaderboard(run)
    form = CompareForm(request.GET or None, candidates=candidates, run=run)
    if not form.is_valid():
        return redirect("run_detail", run.pk)
    by_name = {c.name: c for c in candidates}
    pair = [by_name[form.cleaned_data["first"]], by_name[form.cleaned_data["second"]]]
    context = {
        "run": run,
        "pair": pair,
        "rows": selectors.comparison_rows(run, pair),
        "pair_figure": figures.pair_metrics(run, pair),
        "pair_figures": [figures.candidate_figures(c) for c in pair],
        "confirmations": [(c, selectors.candidate_confirmation(run, c)) for c in pair],
        "compare_form": form,
        "metric_label": METRIC_LABELS.get(run.metric, run.metric),
    }
    return render(request, "analysis/compare.html", context)


@login_required
def run_compare_runs(request: HttpRequest, pk: int) -> HttpResponse:
    """Two runs on the same dataset: their settings and their best models."""
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    other_pk = request.GET.get("other", "")
    if not (other_pk.isascii() and other_pk.isdecimal()):
        return _refused(
            request,
            "Choose the run to compare with by its number: ?other=<run number>.",
            back=reverse("run_detail", args=[run.pk]),
        )
    other = get_object_or_404(
        selectors.runs_of(request.user).filter(dataset_id=run.dataset_id), pk=int(other_pk)
    )
    context = {"run": run, "other": other, "rows": selectors.run_comparison_rows(run, other)}
    return render(request, "analysis/compare_runs.html", context)


def _refused(request: HttpRequest, message: str, *, back: str) -> HttpResponse:
    """A 400 page with the sentence and a link back to the page the request came from."""
    return render(request, "analysis/refused.html", {"message": message, "back": back}, status=400)


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    if services.run_cancel(run=run):
        messages.info(request, "The run was cancelled.")
    return redirect("run_detail", run.pk)


@login_required
@require_POST
def run_finish(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    if services.run_finish(run=run):
        messages.info(
            request, "Finishing: each model keeps its best trial so far, and the run ranks them."
        )
    else:
        messages.info(request, "The run is not searching any more, so there is nothing to finish.")
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
    # Each file folded with its size; the README rendered as a page, the rest highlighted.
    previews = [
        {
            "name": name,
            "bytes": len(text.encode()),
            "readme": name.rsplit("/", 1)[-1].lower() == "readme.md",
            "text": text,
            "html": highlight_file(name, text),
        }
        for name, text in files.items()
    ]
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
    try:
        columns = serving.feature_columns(candidate)
    except serving.PredictionError as exc:  # its files went away
        raise Http404(str(exc)) from exc
    if request.method == "POST":
        values = {c: request.POST.get(c, "") for c in columns}
    else:
        example = selectors.dataset_example_row(candidate.run.dataset)
        values = {c: "" if example.get(c) is None else str(example[c]) for c in columns}
    result = error = None
    field_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        row = {c: (v if v != "" else None) for c, v in values.items()}
        error = next(filter(None, (prediction_value_error(c, v) for c, v in row.items())), None)
        if error is None:
            try:
                result = serving.predict_checked(candidate, [row])
            except InputRefused as exc:
                error, field_errors = exc.sentence, exc.fields
            except serving.PredictionError as exc:
                error = str(exc)
    profile = {c["name"]: c for c in (candidate.run.dataset.profile or {}).get("columns", [])}
    fields = [
        {
            "id": f"feature-{i}",
            "name": c,
            "value": values[c],
            "kind": profile.get(c, {}).get("kind", ""),
            "numeric": profile.get(c, {}).get("kind") == "numeric",
            "choices": [str(v) for v, _ in profile.get(c, {}).get("top_values") or []][:20],
            "errors": field_errors.get(c, []),
        }
        for i, c in enumerate(columns)
    ]
    context = {"candidate": candidate, "fields": fields, "result": result, "error": error}
    context["files"] = candidate.batch_predictions.filter(owner=request.user)[:5]
    return render(request, "analysis/predict.html", context, status=400 if error else 200)


@login_required
@require_POST
def candidate_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Start scoring one model on every row of the file its run did not train on."""
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run"), pk=pk, run__owner=request.user
    )
    try:
        services.candidate_confirm(candidate=candidate)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"{candidate.label} is being scored on the whole file.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("run_detail", candidate.run_id)


@login_required
def candidate_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    """One model's holdout-vs-whole-file panel; the compare page polls it while it runs."""
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run"), pk=pk, run__owner=request.user
    )
    context = {
        "c": candidate,
        "confirmation": selectors.candidate_confirmation(candidate.run, candidate),
        # The page the panel is on, for the button's way back (htmx sends it).
        "next_url": request.headers.get("HX-Current-URL", ""),
    }
    return render(request, "analysis/_confirmation.html", context)
