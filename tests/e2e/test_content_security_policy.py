"""Chromium: every page works under the Content-Security-Policy, charts included; the
browser reports no violation of it on any of them."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 150_000


def test_every_page_runs_under_the_policy(
    violations, celery_worker, signed_in, live_server, django_user_model
):
    page = signed_in
    assert "script-src 'self'" in page.request.get("/").headers["content-security-policy"]

    page.get_by_role("button", name="Iris flowers").click()
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=PROFILE_TIMEOUT_MS)
    # The profile's bars are sized by a script now, not by inline styles.
    bar = page.locator(".column-card .histogram span").first
    expect(bar).to_have_attribute("style", re.compile(r"height: \d+%"))
    assert bar.bounding_box()["height"] > 1

    page.get_by_label("Time budget (seconds)").fill("20")
    start.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    expect(page.get_by_test_id("run-status")).to_have_text(
        re.compile("Succeeded|Failed|Cancelled"), timeout=RUN_TIMEOUT_MS
    )
    expect(page.locator("[data-figure='fig-metric-per-model'] .main-svg").first).to_be_visible()
    run_url = page.url

    page.get_by_role("button", name="Compare these two").click()
    expect(page.locator(".plot[data-drawn]").first).to_be_visible()

    page.goto(run_url)
    board = page.get_by_test_id("leaderboard")
    board.get_by_role("button", name="Sort by Rank").click()
    board.locator("tr.recommended").get_by_role("link", name="Try a prediction").click()
    page.get_by_role("button", name="Predict").click()
    expect(page.get_by_test_id("prediction")).to_be_visible()

    page.goto(run_url)
    page.get_by_test_id("leaderboard").locator("tr.recommended").get_by_role(
        "link", name="See the code"
    ).click()
    expect(page.get_by_role("heading", name=re.compile("Code export"))).to_be_visible()

    page.goto("/")
    django_user_model.objects.filter(username="grace").update(is_staff=True, is_superuser=True)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/axes/accessattempt/")
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/signup/")
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    assert not violations, violations
