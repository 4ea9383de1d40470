"""Chromium: what a data scientist checks first reads right. The dataset page suggests a
target by its stated rule and says why, flags zeros that look like missing values and
keeps usual ranges within the data, and renames the dataset; the comparison page gives
every metric a chart and an axis of its own, and the leaderboard's chart draws scores as
dots on an axis that shows their differences. Screenshots at 1280 and 390 px."""

import numpy as np
import pandas as pd
import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from analysis.automl.profile import profile_table
from analysis.models import Dataset
from analysis.storage import dataset_path

pytestmark = pytest.mark.django_db(transaction=True)


def diamonds(rows: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Diamonds-like: sizes x, y, z (17 rows of zeros), a price, a survey-like weight last."""
    rng = np.random.default_rng(seed)
    carat = rng.uniform(0.2, 2.5, rows).round(2)
    sizes = {axis: (carat * k + rng.normal(0, 0.05, rows)).round(2) for axis, k in
             (("x", 4.1), ("y", 4.0), ("z", 2.5))}  # fmt: skip
    frame = pd.DataFrame({"carat": carat, "cut": rng.choice(["Fair", "Good", "Ideal"], rows)})
    frame = frame.assign(**sizes, price=(carat**1.7 * 3900 + rng.normal(0, 300, rows)).round(0))
    frame.loc[:16, ["x", "y", "z"]] = 0.0
    frame["price"] = frame["price"].clip(lower=326)
    frame["wght"] = rng.uniform(0.5, 3.0, rows).round(3)
    return frame


@pytest.fixture
def profiled_diamonds(django_user_model, signed_in) -> Dataset:
    owner = django_user_model.objects.get(username="grace")
    dataset = Dataset(owner=owner, name="diamonds.csv", status=Dataset.Status.READY)
    dataset.file.save("diamonds.csv", ContentFile(diamonds().to_csv(index=False).encode()))
    profile = profile_table(dataset_path(dataset))
    dataset.profile, dataset.row_count = profile.to_dict(), profile.rows
    dataset.column_count, dataset.size_bytes = len(profile.columns), dataset.file.size
    dataset.save()
    return dataset


def test_the_dataset_page_suggests_flags_and_renames(signed_in, profiled_diamonds, shoot):
    page = signed_in
    page.goto(f"/datasets/{profiled_diamonds.pk}/")

    expect(page.get_by_test_id("suggested-target")).to_have_text("price")
    expect(page.get_by_test_id("suggested-target-reason")).to_have_text(
        "its name, “price”, is a usual name for a target"
    )
    findings = page.get_by_test_id("findings")
    for axis in ("x", "y", "z"):
        expect(findings).to_contain_text(f"17 values of '{axis}' (0.6%) are exactly 0")
    text = findings.inner_text()
    assert "0.0%" not in text, text
    for line in text.splitlines():
        if "usual range (" in line:
            low = float(line.split("usual range (")[1].split(" to ")[0].replace(",", ""))
            assert low >= 0, line  # sizes and prices cannot be negative
    shoot(page, "dataset-findings")

    page.locator("summary", has_text="Rename").click()
    page.get_by_label("New name").fill("diamonds, March")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("diamonds, March")
    expect(page.get_by_text("Renamed to “diamonds, March”.")).to_be_visible()


def test_every_metric_has_its_own_chart_and_scores_show_their_differences(
    signed_in, stored_run, shoot
):
    page = signed_in
    page.goto(f"/runs/{stored_run.pk}/compare/?first=forest&second=xgboost")
    pair = page.locator("[data-figure='fig-pair-metrics']")
    expect(pair.locator(".main-svg").first).to_be_visible()
    titles = pair.evaluate(
        "el => [...el.querySelectorAll('text')]"
        ".filter(t => /^x\\d*title$/.test(t.getAttribute('class'))).map(t => t.textContent)"
    )
    assert sorted(titles) == [
        "MAE (lower is better)",
        "MAPE (lower is better)",
        "RMSE (lower is better)",
        "R² (higher is better)",
    ], titles
    shoot(page, "compare-every-metric")

    page.goto(f"/runs/{stored_run.pk}/")
    scores = page.locator("[data-figure='fig-metric-per-model']")
    expect(scores.locator(".main-svg").first).to_be_visible()
    # Dots, not bars from 0: the axis spans the scores, so near scores stay apart.
    expect(scores.locator(".scatterlayer .point")).to_have_count(3)
    expect(scores.locator(".barlayer .point")).to_have_count(0)
    expect(scores.locator("text.ytitle")).to_have_text("R² (higher is better)")
