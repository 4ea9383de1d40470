"""Deployments on the pages: made from the comparison page of two models (the first is the
champion, the second the challenger), then one page each with the split or shadow mode,
rollback and promotion buttons, the numbers per arm and the history of settings."""

import redis
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from . import deployment_metrics, deployments, selectors
from .deployments import Deployment, DeploymentError
from .models import CandidateResult

PERCENT_HELP = "Share of requests the challenger answers: 0 is the rollback, 100 the promotion."


class SettingForm(forms.Form):
    mode = forms.ChoiceField(choices=Deployment.Mode.choices, initial=Deployment.Mode.SPLIT)
    challenger_percent = forms.IntegerField(
        label="Challenger's share (%)", min_value=0, max_value=100, initial=10,
        help_text=PERCENT_HELP,
    )  # fmt: skip


class CreateForm(SettingForm):
    name = forms.CharField(max_length=deployments.MAX_NAME)
    champion = forms.IntegerField(widget=forms.HiddenInput)
    challenger = forms.IntegerField(widget=forms.HiddenInput)

    field_order = ["name", "mode", "challenger_percent"]


def compare_section(user, run, pair) -> dict:
    """What the comparison page's deployment section shows for this pair."""
    first, second = pair
    return {
        "deployments": list(deployments.deployments_of_pair(user, first, second)),
        "deploy_form": CreateForm(
            initial={
                "name": f"{first.label} vs {second.label}",
                "champion": first.pk,
                "challenger": second.pk,
            }  # fmt: skip
        ),
        "deploy_action": reverse("deployment_create", args=[run.pk]),
    }


def compare_runs_section(user, run, other) -> dict | None:
    """The deployment section of two runs' comparison: each run's best trained model (the
    first run's as the champion), or None when a run has none or they predict different
    columns."""
    pair = [_best(run), _best(other)]
    if None in pair or deployments.pair_refusal(*pair) is not None:
        return None
    return {**compare_section(user, run, pair), "pair": pair}


def _best(run) -> CandidateResult | None:
    trained = run.candidates.filter(status=CandidateResult.Status.SUCCEEDED).exclude(model_dir="")
    return trained.order_by(F("rank").asc(nulls_last=True), "pk").first()


@login_required
@require_POST
def deployment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """From the comparison page of run `pk`: deploy its two models, or from its comparison
    with another run on the same dataset: deploy their best models."""
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    form = CreateForm(request.POST)
    back = reverse("run_detail", args=[run.pk])
    if not form.is_valid():
        return _refused(request, _first_error(form), back)
    data = form.cleaned_data
    try:
        arms = deployments.arms_of(
            request.user, champion=data["champion"], challenger=data["challenger"]
        )
    except DeploymentError as exc:
        return _refused(request, str(exc), back)
    champion, challenger = arms["champion"], arms["challenger"]
    if champion.run_id == challenger.run_id:
        query = {"first": champion.name, "second": challenger.name}
        back = reverse("run_compare", args=[champion.run_id]) + "?" + urlencode(query)
    else:
        query = {"other": challenger.run_id}
        back = reverse("run_compare_runs", args=[champion.run_id]) + "?" + urlencode(query)
    try:
        deployment = deployments.deployment_create(
            owner=request.user, name=data["name"], mode=data["mode"],
            challenger_percent=data["challenger_percent"], **arms,
        )  # fmt: skip
    except DeploymentError as exc:
        return _refused(request, str(exc), back)
    messages.success(request, f"Deployed “{deployment.name}”.")
    return redirect("deployment_page", deployment.pk)


@login_required
def deployment_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the deployment. POST: a new setting (the form, or rollback / promote)."""
    deployment = get_object_or_404(deployments.deployments_of(request.user), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("rollback", "promote"):
            data = {"mode": "split", "challenger_percent": 0 if action == "rollback" else 100}
        else:
            form = SettingForm(request.POST)
            if not form.is_valid():
                return _refused(request, _first_error(form), request.path)
            data = form.cleaned_data
        deployments.deployment_change(deployment=deployment, by=request.user, **data)
        messages.success(request, "Setting saved.")
        return redirect("deployment_page", deployment.pk)
    try:
        numbers = deployment_metrics.summary(deployment.pk)
    except redis.RedisError:
        numbers = None
    context = {
        "deployment": deployment,
        "form": SettingForm(
            initial={"mode": deployment.mode, "challenger_percent": deployment.challenger_percent}
        ),
        "arms": [
            ("champion", deployment.champion, numbers["arms"]["champion"] if numbers else None),
            (
                "challenger",
                deployment.challenger,
                numbers["arms"]["challenger"] if numbers else None,
            ),
        ],
        "shadow": numbers["shadow"] if numbers else None,
        "history": deployment.changes.select_related("by"),
    }
    return render(request, "analysis/deployment.html", context)


@login_required
@require_POST
def deployment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = get_object_or_404(deployments.deployments_of(request.user), pk=pk)
    run = deployment.champion.run_id
    deployments.deployment_delete(deployment=deployment)
    messages.success(request, f"Deleted the deployment “{deployment.name}”.")
    return redirect("run_detail", run)


def _first_error(form: forms.Form) -> str:
    field, errors = next(iter(form.errors.items()))
    label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
    return f"{label}: {errors[0]}" if label else errors[0]


def _refused(request: HttpRequest, message: str, back: str) -> HttpResponse:
    context = {"message": message, "back": back}
    return render(request, "analysis/refused.html", context, status=400)
