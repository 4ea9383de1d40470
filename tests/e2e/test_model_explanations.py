"""Chromium: the dataset page's chart of the columns against the target and the run page's
partial dependence of a model trained for real, drawn at 1280 and 390 px, on screen,
without serious accessibility findings; screenshots in test-artifacts/screenshots."""

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from analysis.automl.discovery import train_candidate
from analysis.automl.ingest.source import IngestOptions
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.models import CandidateResult, Dataset, Run
from analysis.storage import dataset_path, run_dir
from tests.conftest import churn_frame
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.readable import WIDTHS, resize, scrolls_sideways
from tests.e2e.test_accessibility import severe_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def churn_run(signed_in, django_user_model):
    owner = django_user_model.objects.get(username="grace")
    dataset = Dataset(owner=owner, name="churn.csv", status=Dataset.Status.READY)
    content = churn_frame(rows=300).to_csv(index=False).encode()
    dataset.file.save("churn.csv", ContentFile(content), save=False)
    profile = profile_table(dataset_path(dataset), options=IngestOptions())  # its Parquet copy
    dataset.profile, dataset.row_count = profile.to_dict(), profile.rows
    dataset.save()
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="churned", status=Run.Status.SUCCEEDED,
        metric="accuracy", recommended="decision_tree",
    )  # fmt: skip
    folder = run_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    plan = prepare_run(
        dataset_path(dataset), folder, profile=profile, target="churned", max_rows=None, seed=0
    )
    outcome = train_candidate(folder, plan, "decision_tree", time_limit=None)
    CandidateResult.objects.create(
        run=run, name="decision_tree", label="Decision Tree", rank=1,
        status=CandidateResult.Status.SUCCEEDED, model_dir=outcome.model_dir,
        metrics=outcome.metrics, charts=outcome.charts,
    )  # fmt: skip
    return run


def check_chart(page, chart, name: str) -> list:
    found, paths = {}, []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        resize(page, width)  # and wait for plotly.js to redraw for it
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=15_000)
        box = chart.locator(".main-svg").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, width, box)
        assert scrolls_sideways(page.locator("html")) <= 0
        if problems := severe_violations(page):
            found[width] = problems
        paths.append(SCREENSHOTS / f"{name}-{width}.png")
        page.screenshot(path=paths[-1], full_page=True, animations="disabled")
    assert not found, found
    print("screenshots:", *paths)
    return paths


def test_the_dataset_page_charts_the_columns_against_the_target(signed_in, churn_run):
    page = signed_in
    page.goto(f"/datasets/{churn_run.dataset_id}/")
    section = page.get_by_test_id("associations")
    chart = section.locator("[data-figure]")
    expect(chart.locator(".xtitle")).to_contain_text("association with churned", timeout=15_000)
    expect(chart.locator(".ytitle")).to_have_text("column")
    expect(section.get_by_test_id("associations-rule")).to_contain_text("Cramér's V")
    check_chart(page, chart, "dataset-associations")


def test_the_run_page_draws_partial_dependence_per_model(signed_in, churn_run):
    page = signed_in
    page.goto(f"/runs/{churn_run.pk}/")
    chart = page.locator('[data-figure="fig-dependence-decision_tree"]')
    opener = page.locator("details", has=chart)
    if opener.count() and not opener.first.evaluate("el => el.open"):
        opener.first.locator("summary").first.click()
    expect(chart.locator(".xtitle").first).to_be_visible(timeout=15_000)
    stored = churn_run.candidates.get().charts["partial_dependence"]
    for letter in "xy":  # plotly names them xtitle, x2title, ...: every axis is titled
        titles = chart.locator(f'text[class^="{letter}"][class$="title"]')
        assert titles.count() == len(stored)
        assert all(t.strip() for t in titles.all_text_contents())
    check_chart(page, chart, "run-partial-dependence")
