"""The deployment tests' world: two trained models (a decision tree and a linear model,
compiled as training compiles them) saved once per session, and candidates of the owner's
that serve them; helpers to call the deployment API."""

import json

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Run
from tests.unit.test_serving import save_model


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory):
    """{family: (model directory, holdout rows as JSON would carry them)}"""
    found = {}
    for family in ("decision_tree", "linear"):
        directory = tmp_path_factory.mktemp(family)
        _, holdout = save_model(directory, family=family)
        found[family] = (directory, json.loads(holdout.to_json(orient="records")))
    return found


def candidate(run: Run, directory, name: str) -> CandidateResult:
    return CandidateResult.objects.create(
        run=run,
        name=name,
        label=name.replace("_", " ").capitalize(),
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=str(directory),
    )


@pytest.fixture
def pair(owner, profiled_dataset, saved_models):
    """The owner's champion (a tree) and challenger (a linear model) of one run, and rows."""
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")
    champion = candidate(run, saved_models["decision_tree"][0], "decision_tree")
    challenger = candidate(run, saved_models["linear"][0], "linear")
    return champion, challenger, saved_models["decision_tree"][1]


def post(client, name: str, body, *args):
    return client.post(reverse(name, args=args), body, content_type="application/json")


def patch(client, pk: int, body):
    return client.patch(
        reverse("api_deployment_detail", args=[pk]), body, content_type="application/json"
    )


def create(client, champion, challenger, **setting):
    body = {"name": "churn", "champion": champion.pk, "challenger": challenger.pk, **setting}
    response = post(client, "api_deployments", body)
    assert response.status_code == 201, response.content
    return response.json()


def predict(client, deployment_id: int, rows, **extra):
    return post(client, "api_deployment_predict", {"rows": rows, **extra}, deployment_id)


def metrics(client, deployment_id: int) -> dict:
    response = client.get(reverse("api_deployment_metrics", args=[deployment_id]))
    assert response.status_code == 200, response.content
    return response.json()
