"""Chromium: a CSV of records scored from the model's page, through the form, the service,
the real worker and the progress page, then downloaded formula-safe."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.readable import shots
from tests.unit.test_serving import make_candidate, save_model

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_file_is_scored_from_the_prediction_page_and_downloaded(
    celery_worker, signed_in, grace_run, tmp_path
):
    page = signed_in
    model, holdout = save_model(tmp_path / "tree", "decision_tree", "binary")
    candidate = make_candidate(grace_run, tmp_path / "tree")
    frame = holdout.head(25).reset_index(drop=True)
    frame.insert(0, "ref", ["=1+1"] + [f"r{i}" for i in range(1, 25)])
    upload = tmp_path / "records.csv"
    frame.to_csv(upload, index=False)

    page.goto(f"/candidates/{candidate.pk}/predict/")
    section = page.get_by_test_id("score-file")
    section.get_by_label("CSV file of records").set_input_files(str(upload))
    section.get_by_role("button", name="Score the file").click()

    expect(page.get_by_test_id("file-status")).to_have_text("Succeeded", timeout=60_000)
    expect(page.get_by_test_id("file-rows")).to_have_text("25 rows scored.")
    expect(page.get_by_test_id("file-ignored")).to_contain_text("ref")
    shots(page, tmp_path, "prediction-file")
    with page.expect_download() as download:
        page.get_by_test_id("file-download").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0][-3:] == ["prediction", "probability_0", "probability_1"]
    assert [r[-3] for r in rows[1:]] == [str(p) for p in model.predict(frame)]
    assert rows[1][0] == "'=1+1"
    page.goto(f"/candidates/{candidate.pk}/predict/")
    expect(page.get_by_test_id("recent-files")).to_contain_text("records.csv · Succeeded")
