"""Chromium: example dataset → run → model comparison → sort → side by side → prediction →
export; the chunked upload resuming after a dropped piece; a file over the size limit."""

import re
import zipfile

import pytest
from playwright.sync_api import expect

from analysis.models import Dataset, Run
from tests.conftest import churn_frame

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 150_000


def column_values(board, header: str) -> list[str]:
    headers = [h.strip() for h in board.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    rows = board.locator("tbody tr")
    return [rows.nth(i).locator("td").nth(index).inner_text().strip() for i in range(rows.count())]


def test_example_to_comparison_to_prediction_and_export(
    celery_worker, signed_in, shoot, tmp_path, traffic
):
    page = signed_in
    page.get_by_role("button", name="Iris flowers").click()
    expect(page).to_have_url(re.compile(r"/datasets/\d+/$"))
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=PROFILE_TIMEOUT_MS)
    expect(page.get_by_test_id("suggested-target")).to_have_text("species")
    expect(page.get_by_label("Target column (what to predict)")).to_have_value("species")
    expect(page.locator(".column-card")).to_have_count(5)
    expect(page.locator(".column-card .histogram").first).to_be_visible()
    # The one chart of the dataset page: its columns against the suggested target.
    expect(page.locator("[data-figure] .main-svg").first).to_be_visible()
    shoot(page, "dataset-example")

    page.get_by_label("Time budget (seconds)").fill("30")
    start.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    status = page.get_by_test_id("run-status")
    if status.inner_text().strip() not in ("Succeeded", "Failed", "Cancelled"):
        expect(page.get_by_test_id("stage")).to_be_visible()
        shoot(page, "run-live")
    expect(status).to_have_text(re.compile("Succeeded|Failed|Cancelled"), timeout=RUN_TIMEOUT_MS)
    run = Run.objects.get(pk=run_id)
    assert status.inner_text() == "Succeeded", (run.status, run.error)

    # The comparison appears in place, and plotly.js draws its charts.
    expect(page.get_by_role("heading", name="Model comparison")).to_be_visible()
    expect(page.locator("[data-figure='fig-metric-per-model'] .main-svg").first).to_be_visible()
    assert traffic.static.get("/static/js/vendor/plotly-cartesian.min.js") == 200, traffic.static
    recommended = page.locator(f"details[data-candidate='{run.recommended}']")
    expect(recommended).to_have_attribute("open", "")
    shoot(page, "run-comparison")

    # Sort the leaderboard with the keyboard: fit time ascending, then descending.
    board = page.get_by_test_id("leaderboard")
    sort_fit = board.get_by_role("button", name="Sort by Fit (s)")
    sort_fit.focus()
    page.keyboard.press("Enter")
    expect(board.locator("th[aria-sort='ascending']")).to_have_count(1)
    fits = [float(v) for v in column_values(board, "Fit (s)")]
    assert fits == sorted(fits), fits
    page.keyboard.press("Enter")
    expect(board.locator("th[aria-sort='descending']")).to_contain_text("Fit (s)")
    fits = [float(v) for v in column_values(board, "Fit (s)")]
    assert fits == sorted(fits, reverse=True), fits
    board.get_by_role("button", name="Sort by Rank").click()
    assert column_values(board, "Rank") == ["1", "2", "3", "4", "5"]

    # Two models side by side.
    page.get_by_role("button", name="Compare these two").click()
    expect(page.get_by_test_id("comparison")).to_contain_text("Accuracy")
    expect(page.locator(".plot[data-drawn]").first).to_be_visible()
    shoot(page, "compare-models")
    page.go_back()

    # A prediction from the recommended model.
    row = board.locator("tr.recommended")
    row.get_by_role("link", name="Try a prediction").click()
    expect(page.get_by_label(re.compile("^petal length"))).to_have_value(re.compile(r"\d"))
    page.get_by_role("button", name="Predict").click()
    expect(page.get_by_test_id("prediction")).to_have_text(
        re.compile("setosa|versicolor|virginica")
    )
    shoot(page, "prediction")

    # The code preview and the zip.
    page.goto(f"/runs/{run_id}/")
    page.get_by_test_id("leaderboard").locator("tr.recommended").get_by_role(
        "link", name="See the code"
    ).click()
    expect(page.get_by_role("heading", name=re.compile("Code export"))).to_be_visible()
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download the zip").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        assert bundle.testzip() is None
        assert {"train.py", "README.md"} <= {n.rsplit("/", 1)[-1] for n in bundle.namelist()}

    page.goto("/")
    expect(page.get_by_role("row", name=re.compile(f"#{run_id}"))).to_contain_text("accuracy")
    assert not [f for f in traffic.failed if "/favicon.ico" not in f], traffic.failed


def test_a_dropped_piece_is_resent_from_the_servers_offset(signed_in, shoot, tmp_path):
    page = signed_in
    csv = tmp_path / "wide.csv"
    frame = churn_frame(rows=2_000)
    with csv.open("w") as out:  # a little over one 8 MB piece
        while out.tell() < 9 * 1024**2:
            frame.to_csv(out, index=False, header=out.tell() == 0)
    dropped = []

    def drop_once(route):
        if "offset=" in route.request.url and "offset=0" not in route.request.url and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/uploads/[0-9a-f]+/\?offset="), drop_once)
    page.get_by_label("Table file:").set_input_files(csv)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-upload-text]")).to_contain_text(re.compile(r"%|Connection"))
    expect(page).to_have_url(re.compile(r"/datasets/\d+/$"), timeout=30_000)
    assert dropped, "no piece was dropped: the test did not test resuming"
    dataset = Dataset.objects.get(name="wide.csv")
    assert dataset.size_bytes == csv.stat().st_size
    with dataset.file.open("rb") as stored:
        assert stored.read() == csv.read_bytes()


def test_a_file_over_the_limit_is_refused_in_place(signed_in, shoot, tmp_path, settings):
    settings.PROMISE_MAX_UPLOAD_BYTES = 1024**2
    page = signed_in
    page.reload()
    csv = tmp_path / "big.csv"
    csv.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)
    page.get_by_label("Table file:").set_input_files(csv)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_contain_text("larger than the 1 MB limit")
    expect(page).to_have_url(re.compile(r"/$"))
    shoot(page, "upload-refused")
    assert not Dataset.objects.exists()
