"""Chromium: pages a first visit reads at a glance. The error pages, the sign-up help and
the upload box (no worker); then a real run on a price table: rows stated precisely,
numbers readable with the full value in a tooltip, a leaderboard that sorts best-first and
fits a 390 px screen, a comparison whose long values wrap, and an export preview that folds
its files and renders the README. Screenshots at 1280 and 390 px go to the test's tmp dir."""

import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from analysis.models import Run
from tests.e2e.readable import scrolls_sideways, shots, within_screen

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 240_000
DECIMAL = re.compile(r"\d[\d,]*\.\d+")


def too_precise(text: str, digits: int = 4) -> list[str]:
    """The decimal numbers in `text` shown to more than `digits` significant digits."""
    return [
        n
        for n in DECIMAL.findall(text)
        if len(n.replace(",", "").replace(".", "").lstrip("0")) > digits
    ]


HOSTILE_TARGET = "<b>price</b>"


def test_error_pages_are_styled_and_lead_home(app_page, settings, tmp_path, live_server):
    settings.ROOT_URLCONF = "tests.e2e.error_urls"
    page = app_page
    cases = {
        "/no-such-page/": (404, "Page not found"),
        "/test-forbidden/": (403, "Not allowed"),
        "/test-broken/": (500, "Something went wrong on our side"),
    }
    for address, (status, heading) in cases.items():
        response = page.goto(address)
        assert response.status == status
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        card = page.get_by_test_id("error-page")
        # Styled by the site's stylesheet: a white card, the number in the accent colour.
        assert card.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
        number = card.locator(".code-number")
        expect(number).to_have_text(str(status))
        assert number.evaluate("el => getComputedStyle(el).fontSize") == "48px"
        shots(page, tmp_path, f"error-{status}")
        page.get_by_role("link", name="Go to your datasets").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.goto("/no-such-page/")
    expect(page.get_by_test_id("error-page").locator("code")).to_have_text("/no-such-page/")


def test_sign_up_help_sits_beside_its_field(app_page, tmp_path):
    page = app_page
    page.goto("/accounts/signup/")
    for name in ("username", "password1", "password2"):
        field = page.get_by_test_id(f"field-{name}")
        control, help_text = field.locator("input"), field.locator(".helptext")
        expect(help_text).to_be_visible()
        assert control.get_attribute("aria-describedby") == help_text.get_attribute("id")
        c, h = control.bounding_box(), help_text.bounding_box()
        assert h["x"] >= c["x"] + c["width"], f"{name}: the help is not beside the field"
    expect(page.get_by_test_id("field-password1")).to_contain_text("at least 8 characters")
    shots(page, tmp_path, "signup")
    page.set_viewport_size({"width": 390, "height": 844})
    c = page.locator("#id_username").bounding_box()
    h = page.locator("#id_username_helptext").bounding_box()
    assert h["y"] >= c["y"] + c["height"], "at 390 px the help goes under the field"


def test_the_upload_box_is_one_step_naming_every_format(signed_in, tmp_path):
    page = signed_in
    box = page.locator("[data-drop-zone]")
    expect(box.get_by_role("heading", name="Upload a table")).to_be_visible()
    expect(page.get_by_text("Step 1")).to_have_count(0)
    text = box.inner_text()
    for name in ("CSV", "TSV", "delimited", "JSON Lines", "Excel .xlsx", "Parquet", "gzip",
                 "bz2", "zip"):  # fmt: skip
        assert name in text, name
    shots(page, tmp_path, "home")


def price_table(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Diamond-like rows whose price is in the thousands, so errors are too."""
    rng = np.random.default_rng(seed)
    carat = rng.uniform(0.2, 2.5, rows)
    cut = rng.choice(["Fair", "Good", "Ideal"], rows)
    depth = rng.normal(61.5, 1.5, rows)
    price = 3500 * carat + np.where(cut == "Ideal", 900, 0) + rng.normal(0, 2500, rows)
    return pd.DataFrame(
        {"carat": carat.round(3), "cut": cut, "depth": depth.round(2), HOSTILE_TARGET: price}
    )


def sortable_headers(board) -> list[str]:
    return [h.strip() for h in board.locator("thead th[data-sort]").all_inner_texts()]


def column_values(board, header_index: int) -> list[str]:
    rows = board.locator("tbody tr")
    return [
        rows.nth(i).locator("td").nth(header_index).get_attribute("data-value")
        or rows.nth(i).locator("td").nth(header_index).inner_text().strip()
        for i in range(rows.count())
    ]


def fits_a_phone(board):
    """At 390 px: the board does not scroll sideways; each row's rank, model, score and
    download button, and the recommended mark, are on screen; the folded columns hidden."""
    assert scrolls_sideways(board.locator("xpath=..")) <= 0
    for row in board.locator("tbody tr").all():
        for cell in (row.locator("td").nth(0), row.locator("td.model"), row.get_by_test_id("cv")):
            assert within_screen(cell, 390), cell
        assert within_screen(row.get_by_role("button", name="Download code"), 390)
        expect(row.get_by_test_id("holdout")).to_be_hidden()
    assert within_screen(board.locator("tr.recommended .recommended-mark"), 390)


def test_a_run_reads_at_a_glance_on_a_laptop_and_a_phone(
    celery_worker, signed_in, tmp_path, traffic
):
    page = signed_in
    table = tmp_path / "prices.csv"
    price_table().to_csv(table, index=False)
    page.get_by_label("Table file:").set_input_files(table)
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(r"/datasets/\d+/$"))
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=PROFILE_TIMEOUT_MS)
    page.get_by_label("Target column (what to predict)").select_option(HOSTILE_TARGET)
    assert not too_precise(page.locator("main").inner_text(), digits=6)
    shots(page, tmp_path, "dataset")
    page.get_by_label("Time budget (seconds)").fill("20")
    start.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    status = page.get_by_test_id("run-status")
    expect(status).to_have_text(re.compile("Succeeded|Failed|Cancelled"), timeout=RUN_TIMEOUT_MS)
    run = Run.objects.get(pk=run_id)
    assert run.status == Run.Status.SUCCEEDED, run.error
    page.reload()

    # Rows, precisely: the file, training and holdout.
    train, holdout = run.plan["train_rows"], run.plan["holdout_rows"]
    assert train + holdout == 400
    expect(page.get_by_test_id("rows")).to_have_text(
        f"All 400 rows of the file: the models were fitted on {train} training rows and "
        f"scored on {holdout} holdout rows they never saw."
    )

    # Numbers: 4 significant digits, separators, the full value in a tooltip.
    board = page.get_by_test_id("leaderboard")
    assert not too_precise(board.inner_text()), board.inner_text()
    best = run.candidates.get(rank=1)
    cv = board.locator("tr", has_text=best.label).get_by_test_id("cv").locator(".n").first
    assert float(cv.get_attribute("title")) == best.cv_mean
    all_headers = [h.strip() for h in board.locator("thead th").all_inner_texts()]
    rmse = board.locator("tbody tr").first.locator("td").nth(all_headers.index("RMSE"))
    assert re.fullmatch(r"\d,\d{3}", rmse.inner_text().strip()), rmse.inner_text()
    assert float(rmse.locator(".n").get_attribute("title")) == best.metrics["rmse"]
    shots(page, tmp_path, "run")

    # Every column but the actions sorts, best first on the first click; the actions come
    # right after the scores, so that a laptop screen shows them whatever the metrics.
    headers = sortable_headers(board)
    assert all_headers[4] == "Use it" and len(headers) == len(all_headers) - 1
    assert within_screen(
        board.locator("tbody tr").first.get_by_role("button", name="Download code"), 1280
    )
    for header in headers:
        th = board.locator("thead th", has_text=header).first
        first = th.get_attribute("data-first") or "ascending"
        board.get_by_role("button", name=f"Sort by {header}", exact=True).click()
        expect(th).to_have_attribute("aria-sort", first)
        values = column_values(board, all_headers.index(header))
        numbers = [float(v) for v in values if re.fullmatch(r"-?[\d.e+-]+", v)]
        if th.get_attribute("data-sort") == "number" and numbers:
            expected = max(numbers) if first == "descending" else min(numbers)
            assert numbers[0] == expected, (header, first, values)
    r2 = board.locator("thead th", has_text="CV R²")
    assert r2.get_attribute("data-first") == "descending"
    assert board.locator("thead th", has_text="RMSE").get_attribute("data-first") == "ascending"

    # At 390 px: rank, model, recommended mark, score and download stay on screen.
    board.get_by_role("button", name="Sort by Rank").click()
    page.set_viewport_size({"width": 390, "height": 844})
    fits_a_phone(board)
    details = board.locator("tr.recommended").get_by_test_id("more")
    details.locator("summary").click()
    expect(details).to_contain_text("Holdout R²")
    expect(details).to_contain_text("RMSE")
    assert within_screen(details, 390)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Two models side by side: long values wrap, the second model stays on screen.
    page.get_by_role("button", name="Compare these two").click()
    comparison = page.get_by_test_id("comparison")
    expect(comparison).to_contain_text("RMSE")
    assert not too_precise(comparison.inner_text()), comparison.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    assert scrolls_sideways(comparison.locator("xpath=..")) <= 0
    assert within_screen(comparison.locator("thead th").nth(2), 390)
    shots(page, tmp_path, "compare")
    page.go_back()

    # The export preview: every file folded with its size; the README rendered as HTML.
    page.goto(f"/runs/{run_id}/")
    page.get_by_test_id("leaderboard").locator("tr.recommended").get_by_role(
        "link", name="See the code"
    ).click()
    files = page.get_by_test_id("export-file")
    expect(files.first).to_be_visible()
    assert files.count() >= 7
    for i in range(files.count()):
        f = files.nth(i)
        assert f.get_attribute("open") is None
        expect(f.locator("summary .file-size")).to_have_text(re.compile(r"^[\d.,]+ (bytes|KB)$"))
    assert page.evaluate("document.documentElement.scrollHeight") < 2500
    shots(page, tmp_path, "export-folded")
    readme = page.locator("[data-testid=export-file][data-name='README.md']")
    readme.locator("summary").click()
    rendered = readme.get_by_test_id("readme")
    expect(rendered.locator("h1")).to_be_visible()
    expect(rendered.locator("table").first).to_be_visible()
    assert "|---|" not in rendered.inner_text()
    # The user's column name is text, not markup.
    expect(rendered.locator("code", has_text=HOSTILE_TARGET).first).to_be_visible()
    assert rendered.locator("b").count() == 0
    shots(page, tmp_path, "export-readme")
    assert not [f for f in traffic.failed if "/favicon.ico" not in f], traffic.failed


def test_a_stored_leaderboard_fits_a_phone_and_sorts_best_first(signed_in, stored_run, tmp_path):
    page = signed_in
    page.goto(f"/runs/{stored_run.pk}/")
    expect(page.get_by_test_id("rows")).to_have_text(
        "All 17,817 rows of the file: the models were fitted on 14,253 training rows and "
        "scored on 3,564 holdout rows they never saw."
    )
    board = page.get_by_test_id("leaderboard")
    text = board.inner_text()
    assert "4,750" in text and "118 MB" in text and "0.9843" in text, text
    assert not too_precise(text), text
    expect(board.locator("td.fold .n[title='4750.2216796875']")).to_have_text("4,750")
    headers = sortable_headers(board)
    assert {"MAE", "MAPE", "RMSE"} <= set(headers), headers
    board.get_by_role("button", name="Sort by RMSE").click()
    expect(board.locator("tbody tr").first).to_contain_text("Random Forest")  # lower is better
    board.get_by_role("button", name="Sort by RMSE").click()
    expect(board.locator("tbody tr").first).to_contain_text("LSTM")
    board.get_by_role("button", name="Sort by CV R² (ranks)").click()
    expect(board.locator("tbody tr").first).to_contain_text("Random Forest")  # higher is better
    shots(page, tmp_path, "stored-run")

    page.set_viewport_size({"width": 390, "height": 844})
    fits_a_phone(board)
    more = board.locator("tr.recommended").get_by_test_id("more")
    more.locator("summary").click()
    expect(more).to_contain_text("4,750")
    expect(more).to_contain_text("2 min 3 s")
    assert within_screen(more, 390)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"/runs/{stored_run.pk}/compare/?first=forest&second=xgboost")
    comparison = page.get_by_test_id("comparison")
    expect(comparison).to_contain_text("squared_error_with_a_long_name")
    assert not too_precise(comparison.inner_text()), comparison.inner_text()
    shots(page, tmp_path, "stored-compare")
    page.set_viewport_size({"width": 390, "height": 844})
    assert scrolls_sideways(comparison.locator("xpath=..")) <= 0
    assert within_screen(comparison.locator("thead th").nth(2), 390)
