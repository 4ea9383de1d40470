"""Charts that compare: one axis per metric, axes zoomed to the differences, every axis titled."""

import pytest

from analysis import figures
from analysis.models import CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(owner) -> tuple[Run, list[CandidateResult]]:
    dataset = Dataset.objects.create(owner=owner, name="t.csv", status=Dataset.Status.READY)
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="y", metric="accuracy", recommended="forest"
    )
    scores = {
        "forest": {"accuracy": 0.7943, "f1_macro": 0.71, "log_loss": 0.45, "roc_auc": 0.86},
        "linear": {"accuracy": 0.7845, "f1_macro": 0.69, "log_loss": 0.47, "roc_auc": 0.84},
    }
    candidates = [
        CandidateResult.objects.create(
            run=run,
            name=name,
            label=name.title(),
            status=CandidateResult.Status.SUCCEEDED,
            metrics=metrics,
            charts={"feature_importance": [{"feature": "a", "importance": 0.1, "std": 0.01}]},
        )
        for name, metrics in scores.items()
    ]
    return run, candidates


def _axes(layout: dict, letter: str) -> list[dict]:
    return [v for k, v in layout.items() if k.startswith(f"{letter}axis")]


def test_every_metric_gets_its_own_chart_and_axis(pair):
    run, candidates = pair

    figure = figures.pair_metrics(run, candidates)

    titles = [axis["title"]["text"] for axis in _axes(figure.spec["layout"], "x")]
    assert titles == [
        "Accuracy (higher is better)",
        "Macro F1 (higher is better)",
        "Log loss (lower is better)",
        "ROC AUC (higher is better)",
    ]
    assert len(_axes(figure.spec["layout"], "y")) == 4
    assert {trace["yaxis"] for trace in figure.spec["data"]} == {"y", "y2", "y3", "y4"}


def test_scores_are_dots_on_an_axis_that_shows_their_differences(pair):
    run, candidates = pair

    figure = figures.metric_per_model(run, candidates)

    (trace,) = figure.spec["data"]
    assert trace["type"] == "scatter" and trace["y"] == [0.7943, 0.7845]
    layout = figure.spec["layout"]
    assert layout["yaxis"].get("rangemode", "normal") == "normal"  # not forced to start at 0
    assert layout["yaxis"]["title"]["text"] == "Accuracy (higher is better)"
    assert layout["xaxis"]["title"]["text"] == "model"


def test_every_chart_titles_both_axes_and_leaves_room_for_the_toolbar(pair):
    run, candidates = pair
    built = [
        figures.metric_per_model(run, candidates),
        figures.pair_metrics(run, candidates),
        figures.feature_importance(candidates[0]),
    ]

    for figure in built:
        layout = figure.spec["layout"]
        assert layout["margin"]["t"] >= figures.TOOLBAR_MARGIN, figure.id
        for axis in _axes(layout, "x") + (
            _axes(layout, "y") if figure.id != "pair-metrics" else []
        ):
            assert axis.get("title", {}).get("text"), (figure.id, axis)
    assert figures.feature_importance(candidates[0]).spec["layout"]["xaxis"]["title"]["text"] == (
        "drop in Accuracy"
    )
