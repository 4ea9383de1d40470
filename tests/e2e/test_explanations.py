"""Chromium: the prediction page explains its prediction with a waterfall chart (drawn by
plotly.js from static/), readable at 1280 and 390 px and without serious accessibility
findings; its form lists the model's categories and shows a wrong value beside its field."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.readable import WIDTHS, resize, scrolls_sideways
from tests.e2e.test_accessibility import severe_violations, trained_model  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_prediction_page_draws_the_waterfall(signed_in, trained_model):  # noqa: F811
    page = signed_in
    page.goto(f"/candidates/{trained_model.pk}/predict/")
    page.get_by_role("button", name="Predict").click()
    expect(page.get_by_test_id("prediction")).to_be_visible()
    chart = page.get_by_test_id("explanation")
    expect(chart.get_by_text("Why this prediction")).to_be_visible()
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=15_000)  # plotly drew it
    bars = chart.locator("g.point")
    assert bars.count() >= 3  # base value, at least one column, the model's output
    expect(chart.locator(".xtitle")).to_contain_text("log-odds of churned")
    expect(chart.locator(".ytitle")).to_have_text("contribution of")
    found, paths = {}, []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        resize(page, width)  # and wait for plotly.js to redraw for it
        box = chart.locator(".main-svg").first.bounding_box()
        # the chart fills the card's width and stays on screen
        assert box["x"] >= 0 and width * 0.6 <= box["x"] + box["width"] <= width, (width, box)
        if problems := severe_violations(page):
            found[width] = problems
        # taken here rather than by `shoot`: the accessibility check runs at each width too
        paths.append(SCREENSHOTS / f"prediction-waterfall-{width}.png")
        page.screenshot(path=paths[-1], full_page=True, animations="disabled")
        assert scrolls_sideways(page.locator("html")) <= 0
    assert not found, found
    print("screenshots:", *paths)


def test_a_category_is_chosen_from_a_list_and_a_wrong_number_is_refused_beside_it(
    signed_in,
    trained_model,  # noqa: F811
):
    page = signed_in
    page.goto(f"/candidates/{trained_model.pk}/predict/")
    plan = page.get_by_label("plan")
    assert plan.evaluate("el => el.tagName") == "SELECT"
    options = plan.locator("option").all_inner_texts()
    assert options[0] == "(missing)" and len(options) > 2
    tenure = page.get_by_label("tenure")
    hint = page.locator("#" + tenure.get_attribute("aria-describedby").split()[0])
    expect(hint).to_contain_text("a number")
    tenure.fill("soon")
    page.get_by_role("button", name="Predict").click()
    error = page.locator("#" + tenure.get_attribute("id") + "-error")
    expect(error).to_contain_text("'soon' is not a number")
