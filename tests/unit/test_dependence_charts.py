"""Partial dependence is stored with each trained candidate's charts and drawn on the run
page, one small chart per column with every axis titled."""

import pytest
from django.urls import reverse

from analysis import figures
from tests.integration.trained import trained_candidate
from tests.unit.automl.test_discovery import size_and_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidate(owner):
    """A decision tree trained for real on a table where round shapes and size matter."""
    content = size_and_shape(regression=True).to_csv(index=False).encode()
    return trained_candidate(owner, content, target="target", family="decision_tree")


def test_training_stores_partial_dependence_of_the_most_important_columns(candidate):
    stored = candidate.charts["partial_dependence"]
    importance = [row["feature"] for row in candidate.charts["feature_importance"]]
    assert [chart["feature"] for chart in stored] == importance[:5]
    by_name = {chart["feature"]: chart for chart in stored}
    assert by_name["shape"]["kind"] == "categorical"
    assert by_name["shape"]["grid"] == ["flat", "long", "round"]
    # the target is 4 higher for round shapes, and grows with size
    shape = dict(zip(by_name["shape"]["grid"], by_name["shape"]["average"], strict=True))
    assert shape["round"] > shape["flat"] + 1
    assert by_name["size"]["average"][-1] > by_name["size"]["average"][0] + 1
    assert all(chart["output"] == "prediction" and chart["ice"] for chart in stored)


def test_the_run_page_draws_it_with_every_axis_titled(owner_client, candidate):
    (figure,) = [f for f in figures.candidate_figures(candidate) if f.id.startswith("dependence")]
    layout, data = figure.spec["layout"], figure.spec["data"]
    stored = candidate.charts["partial_dependence"]
    axes = {k: v for k, v in layout.items() if k[1:5] == "axis"}
    assert len(axes) == 2 * len(stored)
    assert all(axis["title"]["text"] for axis in axes.values())
    assert {axis["title"]["text"] for k, axis in axes.items() if k[0] == "x"} == {
        c["feature"] for c in stored
    }
    assert len(data) == 2 * len(stored)  # the ICE lines and the average, per column
    assert layout["margin"]["t"] >= figures.TOOLBAR_MARGIN
    html = owner_client.get(reverse("run_detail", args=[candidate.run_id])).content.decode()
    assert f'data-figure="fig-{figure.id}"' in html


def test_a_candidate_from_before_has_no_such_chart(candidate):
    candidate.charts = {k: v for k, v in candidate.charts.items() if k != "partial_dependence"}
    assert not [f for f in figures.candidate_figures(candidate) if f.id.startswith("dependence")]
