"""Stored JSON objects read the same on SQLite and PostgreSQL, whose jsonb reorders keys."""

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from analysis.automl.metrics import METRIC_LABELS
from analysis.models import BatchPrediction, CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(owner):
    dataset = Dataset(owner=owner, name="t.csv", status=Dataset.Status.READY)
    dataset.profile = {"rows": 4, "columns": [{"name": "x"}, {"name": "label"}], "preview": []}
    dataset.file.save("t.csv", ContentFile(b"x,label\n1,yes\n"), save=True)
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="label", status=Run.Status.SUCCEEDED,
        metric="balanced_accuracy", recommended="forest", plan={"task": "binary"},
    )  # fmt: skip
    # Written in an order that is neither by name nor by length (jsonb's order), with the
    # run's metric last either way.
    CandidateResult.objects.create(
        run=run, name="forest", label="Forest", position=0, rank=1, status="succeeded",
        metrics={"log_loss": 0.3, "f1_macro": 0.7, "balanced_accuracy": 0.8},
        params={"n_estimators": 100, "max_depth": 4}, cv_mean=0.8, cv_std=0.01,
    )  # fmt: skip
    return run


def test_it_lists_other_metrics_and_parameters_in_one_order(owner_client, run):
    page = owner_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    # One column per other metric, by name, and each row's cells in the same order.
    headings = re.findall(r'<th [^>]*title="Holdout ([^"]+)"', page)
    assert headings == [METRIC_LABELS["f1_macro"], METRIC_LABELS["log_loss"]]
    cells = re.findall(r'<td class="num fold" data-value="([^"]*)"', page)
    assert cells.index("0.7") < cells.index("0.3")  # f1_macro's cell, then log_loss's
    assert "Parameters: max_depth=4, n_estimators=100" in page


@pytest.mark.parametrize(
    ("status", "field", "listed"),
    [("succeeded", "unseen_categories", "file-unseen"), ("failed", "error_fields", "file-fields")],
)
def test_a_scored_files_columns_are_listed_by_name(owner_client, run, status, field, listed):
    # Neither by name nor by length (jsonb's order).
    written = {"zone": ["z1"], "amount_band": ["huge"], "city": ["Oslo"]}
    batch = BatchPrediction.objects.create(
        owner=run.owner, candidate=run.candidates.get(), name="in.csv", status=status,
        rows_total=3, error="Some records do not fit the model.", **{field: written},
    )  # fmt: skip
    page = owner_client.get(reverse("prediction_file_page", args=[batch.pk])).content.decode()
    shown = page[page.index(f'data-testid="{listed}"') :]
    assert shown.index("amount_band") < shown.index("city") < shown.index("zone")
