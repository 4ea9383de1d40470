"""The path a user takes in Chromium: upload → profile → start → watch → leaderboard → export.

A real Celery worker (tests/worker.py) profiles the uploads and trains the candidates.
"""

import re
import time
import zipfile

import pytest
from playwright.sync_api import expect

from analysis.automl.candidates import CANDIDATES
from analysis.automl.ranking import NEAR_TIE
from analysis.models import Run
from tests.conftest import churn_frame

pytestmark = pytest.mark.django_db(transaction=True)

FAMILIES = {candidate.name for candidate in CANDIDATES}
EXPORT_FILES = {
    "README.md", "requirements.txt", "config.json", "features.py", "train.py",
    "evaluate.py", "predict.py",
}  # fmt: skip
PROFILE_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 240_000


def upload(page, path):
    page.goto("/")
    page.get_by_label("Table file:").set_input_files(path)
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(r"/datasets/\d+/$"))


def mark_document(page):
    """Tag the loaded document; the tag survives htmx swaps but not a reload."""
    page.evaluate("window.__promiseE2E = 'same document'")


def same_document(page) -> bool:
    return page.evaluate("window.__promiseE2E === 'same document'")


def test_a_file_that_is_not_a_table_shows_why_on_its_page(
    celery_worker, signed_in, shoot, tmp_path
):
    page = signed_in
    bad = tmp_path / "data.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    upload(page, bad)
    expect(page.get_by_role("heading", name="data.csv")).to_be_visible()

    # The status polls until the worker gives up on the file; the page then refreshes.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(r"not a (text )?table"), timeout=PROFILE_TIMEOUT_MS)
    expect(page.locator("#dataset-status .status")).to_have_text("Failed")
    expect(page.get_by_role("button", name="Start discovery")).to_have_count(0)
    shoot(page, "dataset-failed")

    page.goto("/")
    row = page.get_by_role("row", name=re.compile("data.csv"))
    expect(row).to_contain_text("Failed")


def test_upload_to_leaderboard_to_downloaded_export(
    celery_worker, signed_in, shoot, tmp_path, traffic
):
    page = signed_in
    csv = tmp_path / "churn.csv"
    churn_frame(rows=500).to_csv(csv, index=False)
    upload(page, csv)

    # The profile: polled with htmx, then the page refreshes to show the form and columns.
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=PROFILE_TIMEOUT_MS)
    expect(page.locator("#dataset-status")).to_contain_text("500 rows · 6 columns")
    expect(page.get_by_role("heading", name="Columns", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="monthly_charges", exact=True)).to_be_visible()
    shoot(page, "dataset")

    page.get_by_label("Target column (what to predict)").select_option("churned")
    page.get_by_label("Sample size").select_option("custom")
    page.get_by_label("Custom sample rows").fill("300")
    page.get_by_label("Time budget (seconds)").fill("60")
    start.click()

    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    expect(
        page.get_by_role("heading", name=re.compile(r"Run #\d+: predict churned"))
    ).to_be_visible()
    status = page.get_by_test_id("run-status")
    expect(status).not_to_have_text("Failed")
    was_active = status.inner_text().strip() not in ("Succeeded", "Cancelled")
    mark_document(page)
    shoot(page, "run-active")

    # Watch it finish in place: htmx swaps the status and leaderboard, no reload.
    started = time.monotonic()
    expect(status).to_have_text(re.compile("Succeeded|Failed|Cancelled"), timeout=RUN_TIMEOUT_MS)
    run = Run.objects.get(pk=run_id)
    assert status.inner_text() == "Succeeded", (run.status, run.error)
    assert same_document(page), "the run page reloaded instead of updating in place"
    if was_active:
        assert f"/runs/{run_id}/" in traffic.htmx, "htmx never polled the run page"
    print(f"run #{run_id} finished in {time.monotonic() - started:.0f} s after the page opened")

    expect(page.get_by_test_id("sample-note")).to_contain_text(
        "Trained on a sample of 300 of 500 rows: the models were fitted on 240 training rows"
    )
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)

    board = page.get_by_test_id("leaderboard")
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(5)
    names = [rows.nth(i).get_attribute("data-candidate") for i in range(5)]
    assert len(FAMILIES) == 5 and set(names) == FAMILIES, names
    headers = [h.strip() for h in board.locator("thead th").all_inner_texts()]
    columns = ("Rank", "State", "CV Accuracy (ranks)", "Holdout Accuracy (reports)")
    rank, state, cv, holdout = (headers.index(h) for h in columns)
    cells = [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(5)]
    assert [row[rank] for row in cells] == ["1", "2", "3", "4", "5"], cells
    # The state, then maybe a note of the second round ("second round: improved").
    assert [row[state].splitlines()[0] for row in cells] == ["Succeeded"] * 5, cells
    # Chosen by the CV mean (the first number of its cell), a simpler model first on a
    # near-tie, and a one-fold score only when its lead is significant (ranking.py); the
    # holdout score and its 95% interval are reported beside it.
    cv_means = [float(row[cv].split()[0]) for row in cells if "1 fold" not in row[cv]]
    assert cv_means[0] >= round(max(cv_means) - NEAR_TIE, 4), cv_means
    scores = [float(row[holdout].split()[0]) for row in cells]
    assert all(0.0 <= s <= 1.0 for s in scores), scores
    assert all("95%" in row[holdout] for row in cells), cells
    expect(board.get_by_role("button", name="Download code")).to_have_count(5)

    recommended = board.locator("tbody tr.recommended")
    expect(recommended).to_have_count(1)
    expect(recommended).to_contain_text("(recommended)")
    assert recommended.get_attribute("data-candidate") == run.recommended == names[0]
    shoot(page, "run-succeeded")

    with page.expect_download(timeout=60_000) as download_info:
        recommended.get_by_role("button", name="Download code").click()
    download = download_info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".zip"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        assert bundle.testzip() is None
        names_in_zip = {name.rsplit("/", 1)[-1] for name in bundle.namelist()}
    assert EXPORT_FILES <= names_in_zip, sorted(names_in_zip)

    page.goto("/")
    runs = page.get_by_role("row", name=re.compile(f"#{run_id}"))
    expect(runs).to_contain_text("Succeeded")
    expect(runs).to_contain_text(run.recommended)
    shoot(page, "home")
    assert not [f for f in traffic.failed if "/favicon.ico" not in f], traffic.failed


def test_a_run_can_be_cancelled_from_its_page(celery_worker, signed_in, shoot, tmp_path):
    page = signed_in
    csv = tmp_path / "churn.csv"
    churn_frame(rows=500, seed=3).to_csv(csv, index=False)
    upload(page, csv)
    start = page.get_by_role("button", name="Start discovery")
    expect(start).to_be_visible(timeout=PROFILE_TIMEOUT_MS)
    page.get_by_label("Target column (what to predict)").select_option("churned")
    page.get_by_label("Time budget (seconds)").fill("600")
    start.click()

    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    page.get_by_role("button", name="Cancel run").click()

    status = page.get_by_test_id("run-status")
    expect(status).to_have_text("Cancelled")
    expect(page.get_by_role("status")).to_contain_text("The run was cancelled.")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    shoot(page, "run-cancelled")
    assert Run.objects.get(pk=run_id).status == "cancelled"

    # It stays cancelled: nothing the worker still finishes brings it back.
    page.wait_for_timeout(3_000)
    page.reload()
    expect(status).to_have_text("Cancelled")
    run = Run.objects.get(pk=run_id)
    assert run.status == "cancelled"
    assert set(run.candidates.values_list("status", flat=True)) <= {"cancelled", "succeeded"}
