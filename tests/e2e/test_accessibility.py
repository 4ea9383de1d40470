"""Chromium: an axe-core scan of every page finds no serious or critical violation.

axe-core runs from the copy vendored in tests/e2e/vendor/axe-core (MPL 2.0, its licence
beside it), injected into each page after it has loaded; the site itself never loads it.
The pages hold real objects: a stored run of three models, and one model trained for the
prediction and export pages. Each page is scanned at 1280 and 390 px.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.batch_predictions import BatchPrediction
from analysis.deployments import Deployment
from analysis.models import CandidateResult, Run
from analysis.storage import run_dir
from tests.conftest import churn_frame

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")
WIDTHS = (1280, 390)


def severe_violations(page) -> list[str]:
    """axe's serious and critical findings on the page, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's Content-Security-
        # Policy does not govern: the policy stays as users get it.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in SEVERE
    ]


def scan(page, paths: list[str], status: int = 200) -> dict[str, list[str]]:
    found = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            response = page.goto(path)
            assert response.status == status, (path, response.status)
            page.wait_for_load_state("networkidle")
            if problems := severe_violations(page):
                found[f"{path} at {width} px"] = problems
    return found


@pytest.fixture
def trained_model(stored_run) -> CandidateResult:
    """A linear model trained for real on a churn table, in a finished run of its own."""
    run = Run.objects.create(
        owner=stored_run.owner,
        dataset=stored_run.dataset,
        target="churned",
        status=Run.Status.SUCCEEDED,
        recommended="linear",
    )
    folder = run_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "churn.csv"
    churn_frame(rows=200).to_csv(path, index=False)
    plan = prepare_run(
        path, folder, profile=profile_table(path), target="churned", max_rows=None, seed=0
    )
    result = train_candidate(folder, plan, "linear", time_limit=3)
    return CandidateResult.objects.create(
        run=run,
        name="linear",
        label="Linear",
        rank=1,
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=result.model_dir,
        metrics=result.metrics,
    )


def test_no_page_has_a_serious_or_critical_accessibility_violation(
    app_page, signed_in, stored_run, trained_model, django_user_model
):
    page = signed_in
    run, dataset = stored_run, stored_run.dataset
    forest, xgboost = run.candidates.get(name="forest"), run.candidates.get(name="xgboost")
    deployment = Deployment.objects.create(
        owner=run.owner, name="prices", champion=forest, challenger=xgboost, challenger_percent=10
    )
    scored = BatchPrediction.objects.create(
        owner=run.owner,
        candidate=trained_model,
        name="to-score.csv",
        status=BatchPrediction.Status.FAILED,
        error="Row 3, column tenure: “soon” is not a number.",
        error_fields={"tenure": ["Row 3: “soon” is not a number."]},
    )
    signed_in_pages = [
        "/",
        f"/datasets/{dataset.pk}/",
        f"/runs/{run.pk}/",
        f"/runs/{run.pk}/compare/?first=forest&second=xgboost",
        f"/candidates/{trained_model.pk}/predict/",
        f"/candidates/{trained_model.pk}/code/",
        "/accounts/tokens/",
        f"/deployments/{deployment.pk}/",
        f"/prediction-files/{scored.pk}/",
    ]
    found = scan(page, signed_in_pages)

    django_user_model.objects.filter(username="grace").update(is_staff=True)
    found |= scan(page, ["/serving/", "/ops/"])

    page.context.clear_cookies()
    found |= scan(page, ["/accounts/login/", "/accounts/signup/"])
    found |= scan(page, ["/no-such-page/"], status=404)

    assert not found, "\n".join(f"{where}: {p}" for where, ps in found.items() for p in ps)


def test_the_scan_reports_a_critical_violation_when_there_is_one(app_page):
    page = app_page
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")

    assert any(v.startswith("image-alt (critical)") for v in severe_violations(page))
