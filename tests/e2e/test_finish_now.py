"""Chromium: a long run is finished with the button, and the leaderboard appears in place."""

import re

import pytest
from playwright.sync_api import expect

from analysis.models import CandidateResult, Run
from tests.conftest import churn_frame
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_finish_now_ranks_what_the_searches_found(celery_worker, signed_in, shoot, tmp_path):
    page = signed_in
    csv = tmp_path / "churn.csv"
    churn_frame(rows=20_000).to_csv(csv, index=False)
    page.goto("/")
    page.locator("input[type=file]").set_input_files(csv)
    page.get_by_role("button", name="Upload").click()
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=60_000)
    page.get_by_label("Target column (what to predict)").select_option("churned")
    page.get_by_label("Time budget (seconds)").fill("600")
    start.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    wait_for(
        lambda: CandidateResult.objects.filter(run_id=run_id, trials_done__gte=1).exists(),
        timeout=120,
        what="a first scored trial",
    )

    finish = page.get_by_test_id("finish-now")
    expect(finish).to_be_visible()
    finish.click()
    expect(
        page.get_by_text("Finishing: each model keeps its best trial so far").first
    ).to_be_visible()

    status = page.get_by_test_id("run-status")
    expect(status).to_have_text(re.compile("Succeeded|Failed|Cancelled"), timeout=120_000)
    run = Run.objects.get(pk=run_id)
    assert status.inner_text() == "Succeeded", (run.status, run.error)
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
    expect(page.get_by_text(re.compile("The search was finished early"))).to_be_visible()
    recommended = page.get_by_test_id("leaderboard").locator("tbody tr.recommended")
    expect(recommended).to_have_attribute("data-candidate", run.recommended)
    shoot(page, "run-finished-now")
