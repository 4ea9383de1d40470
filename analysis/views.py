"""Run and candidate pages (dataset_pages.py holds the home and dataset pages). Each view
checks ownership, validates with a form and calls one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import explanations, figures, selectors, services, serving
from .automl.metrics import METRIC_LABELS
from .explanation_figures import waterfall
from .forms import (
    CompareForm,
    prediction_value_error,
)
from .highlight import highlight_file
from .models import CandidateResult, Run
from .prediction_form import form_fields
from .prediction_input import InputRefused


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
    result = error = row = None
    field_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        row = {c: (v if v != "" else None) for c, v in values.items()}
        bad = {c: [m] for c, v in row.items() if (m := prediction_value_error(c, v))}
        if bad:  # shown beside each field, the first one at the top too
            error, field_errors = next(iter(bad.values()))[0], bad
        else:
            try:
                result = serving.predict_checked(candidate, [row])
            except InputRefused as exc:
                error, field_errors = exc.sentence, exc.fields
            except serving.PredictionError as exc:
                error = str(exc)
    fields = form_fields(candidate, columns, values, field_errors)
    context = {"candidate": candidate, "fields": fields, "result": result, "error": error}
    context["explanation"], context["explanation_note"] = _explanation(candidate, result, row)
    context["files"] = candidate.batch_predictions.filter(owner=request.user)[:5]
    return render(request, "analysis/predict.html", context, status=400 if error else 200)


def _explanation(candidate: CandidateResult, result: dict | None, row: dict | None):
    """The waterfall of a predicted record's contributions, or why there is none."""
    if result is None or row is None:
        return None, ""
    try:
        answer = explanations.explain_rows(candidate, [row])[0]
    except explanations.NotExplained as exc:
        return None, str(exc)
    return waterfall(answer, target=candidate.run.target), ""


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
