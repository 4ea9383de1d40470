"""The pages of issue 7 render what the user needs, from stored data (no worker)."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from analysis.models import CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db

PROFILE = {
    "rows": 4,
    "columns": [
        {"name": "id", "kind": "identifier", "missing": 0, "distinct": 4},
        {
            "name": "size", "kind": "numeric", "missing": 1, "distinct": 3, "min": 1.0,
            "max": 9.0, "mean": 4.0, "histogram": [[1.0, 5.0, 2], [5.0, 9.0, 1]],
        },
        {"name": "label", "kind": "categorical", "missing": 0, "distinct": 2,
         "top_values": [["yes", 3], ["no", 1]]},
        {"name": "note", "kind": "text", "missing": 0, "distinct": 4},
    ],
    "preview": [{"id": 1, "size": 1.0, "label": "yes", "note": "a"}],
    "findings": [
        {"severity": "info", "column": "note", "message": "Free text.", "action": "Leave it out."},
        {"severity": "warning", "column": "id", "message": "Looks like an identifier.",
         "action": "Leave it out."},
    ],
}  # fmt: skip

CHARTS = {
    "confusion_matrix": {"labels": ["no", "yes"], "matrix": [[3, 1], [0, 4]]},
    "roc": {"curves": [{"label": "yes", "fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auc": 0.9}]},
    "pr": {"curves": [{"label": "yes", "precision": [1, 0.8], "recall": [0, 1],
                       "average_precision": 0.85}]},
    # The shape analysis/automl/importance.py writes: most important first.
    "feature_importance": [{"feature": "size", "importance": 0.3, "std": 0.02},
                           {"feature": "note", "importance": 0.01, "std": 0.01}],
    "search_history": [{"trial": 1, "score": 0.7, "seconds": 0.1},
                       {"trial": 2, "score": 0.8, "seconds": 0.1}],
}  # fmt: skip


@pytest.fixture
def dataset(owner):
    dataset = Dataset(owner=owner, name="t.csv", status=Dataset.Status.READY, profile=PROFILE)
    dataset.row_count, dataset.column_count = 4, 4
    dataset.file.save("t.csv", ContentFile(b"id,size,label,note\n1,1,yes,a\n"), save=True)
    return dataset


@pytest.fixture
def finished_run(owner, dataset):
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="label", status=Run.Status.SUCCEEDED,
        metric="accuracy", recommended="forest", sample_rows=3, total_rows=4,
        plan={"task": "binary", "detected_task": "binary"},
        insights=["Random forest is the most accurate."],
    )  # fmt: skip
    for position, (name, score) in enumerate([("forest", 0.9), ("linear", 0.8)]):
        CandidateResult.objects.create(
            run=run, name=name, label=name.title(), position=position, rank=position + 1,
            status="succeeded", metrics={"accuracy": score, "f1_macro": score - 0.1},
            charts=CHARTS if name == "forest" else {}, params={"depth": position + 3},
            cv_mean=score, cv_std=0.01,
        )  # fmt: skip
    return run


def test_it_offers_one_click_examples_and_a_drop_zone_on_home(owner_client):
    page = owner_client.get(reverse("home")).content.decode()

    assert "data-drop-zone" in page and "js/upload.js" in page
    assert reverse("example_create", args=["iris"]) in page


def test_it_turns_an_example_into_a_dataset_in_one_click(owner_client, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = owner_client.post(reverse("example_create", args=["iris"]))

    dataset = Dataset.objects.get(owner=owner)
    assert response.status_code == 302 and dataset.name == "iris.csv"
    assert dataset.file.open("rb").readline().startswith(b"sepal length (cm)")


def test_it_shows_column_cards_findings_and_a_suggested_target(owner_client, dataset):
    page = owner_client.get(reverse("dataset_detail", args=[dataset.pk])).content.decode()

    assert page.count('class="column-card"') == 4
    assert 'class="histogram"' in page and "top-values" in page
    assert page.index("Looks like an identifier") < page.index("Free text.")  # warning first
    assert '<code data-testid="suggested-target">label</code>' in page
    assert "is a usual name for a target" in page  # the page says why


def test_it_draws_the_comparison_charts_of_a_finished_run(owner_client, finished_run):
    page = owner_client.get(reverse("run_detail", args=[finished_run.pk])).content.decode()

    assert "Trained on a sample of 3 of 4 rows" in page
    assert page.count("of 4 rows") == 1  # one sentence says it, not a banner and a sentence
    assert page.index("sample-note") < page.index("Leaderboard")
    for figure in ("metric-per-model", "search-history", "confusion-forest", "roc-forest",
                   "pr-forest", "importance-forest"):  # fmt: skip
        assert f'id="fig-{figure}"' in page, figure
    assert "data-sortable" in page and "js/vendor/plotly-cartesian.min.js" in page


def test_it_loads_no_chart_library_on_pages_without_charts(owner_client, dataset):
    for url in (reverse("home"), reverse("dataset_detail", args=[dataset.pk])):
        assert "plotly" not in owner_client.get(url).content.decode(), url


def test_it_says_when_a_model_has_no_stored_charts(owner_client, finished_run):
    page = owner_client.get(reverse("run_detail", args=[finished_run.pk])).content.decode()

    assert "No charts were stored for this model." in page  # the linear model has none


def test_it_puts_two_models_side_by_side(owner_client, finished_run):
    url = reverse("run_compare", args=[finished_run.pk])

    page = owner_client.get(url, {"first": "forest", "second": "linear"}).content.decode()

    assert "Forest vs Linear" in page
    assert "param: depth" in page and "Macro F1" in page
    assert 'id="fig-pair-metrics"' in page


def test_it_shows_live_details_while_a_run_trains(owner_client, finished_run):
    Run.objects.filter(pk=finished_run.pk).update(status=Run.Status.TRAINING)
    CandidateResult.objects.filter(run=finished_run).update(
        status="running", trials_done=4, best_score=0.75
    )

    page = owner_client.get(reverse("run_detail", args=[finished_run.pk])).content.decode()

    assert "Training the five candidates" in page
    assert "0.7500" in page and "Cancel run" in page


def test_it_compares_two_runs_of_a_dataset(owner_client, finished_run):
    other = Run.objects.create(
        owner=finished_run.owner, dataset=finished_run.dataset, target="size"
    )
    url = reverse("run_compare_runs", args=[finished_run.pk])

    page = owner_client.get(url, {"other": other.pk}).content.decode()

    assert f"Run #{finished_run.pk} vs run #{other.pk}" in page


def test_it_hides_another_users_run_comparison(outsider_client, finished_run):
    url = reverse("run_compare", args=[finished_run.pk])

    assert outsider_client.get(url, {"first": "forest", "second": "linear"}).status_code == 404


def test_it_says_when_a_search_ran_on_part_of_the_training_rows(owner_client, finished_run):
    finished_run.plan = {**finished_run.plan, "train_rows": 80_000}
    finished_run.save()
    forest = finished_run.candidates.get(name="forest")
    forest.charts = {**forest.charts, "search_rows": 12_345}
    forest.save()

    page = owner_client.get(reverse("run_detail", args=[finished_run.pk])).content.decode()

    assert "searched on 12,345 of 80,000 rows" in page
    assert page.count("searched on") == 1  # the linear model searched on every row
