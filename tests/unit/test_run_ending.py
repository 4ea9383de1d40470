"""The sentence a run stores when its second round ends it early, told from the searches
kept in the run's folder (no worker)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from analysis.automl.discovery import write_search
from analysis.automl.search import SearchResult
from analysis.models import CandidateResult, Dataset, Run
from analysis.services.runs import _second_round_with_ending
from analysis.storage import run_folder

pytestmark = pytest.mark.django_db


def ended_run(
    owner, searches: dict[str, SearchResult], *, seconds_ago: float, out_of_reach=()
) -> Run:
    """A 30 s run started `seconds_ago`, whose second round continued XGBoost and left
    the searches `out_of_reach` out."""
    dataset = Dataset(owner=owner, name="t.csv", status=Dataset.Status.READY)
    dataset.file.save("t.csv", ContentFile(b"size,label\n1,yes\n"), save=True)
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="label", status=Run.Status.RANKING,
        time_budget=30, started_at=timezone.now() - timedelta(seconds=seconds_ago),
        second_round={
            "seconds": {"xgboost": 8.0}, "order": ["xgboost"], "sentence": "",
            "out_of_reach": list(out_of_reach), "too_slow": [],
        },
    )  # fmt: skip
    with run_folder(run) as folder:
        for name, search in searches.items():
            (folder / "candidates" / name).mkdir(parents=True, exist_ok=True)
            write_search(folder / "candidates" / name, search)
    for name in searches:
        CandidateResult.objects.create(
            run=run, name=name, label={"xgboost": "XGBoost"}.get(name, name.title()),
            status=CandidateResult.Status.SUCCEEDED,
        )  # fmt: skip
    return run


def search(stopped_by: str, converged: str = "") -> SearchResult:
    return SearchResult(
        params={}, cv_scores=[0.8], planned_trials=4, folds=3, stopped_by=stopped_by,
        seconds=5.0, converged=converged,
    )  # fmt: skip


def ending(run: Run) -> str:
    done = {c.name: c for c in run.candidates.all()}
    return _second_round_with_ending(run, done)["sentence"]


def test_it_says_a_continued_search_had_no_room_for_one_more_trial(owner):
    run = ended_run(
        owner,
        {"linear": search("trials", "all 20 trials ran"), "xgboost": search("time")},
        seconds_ago=26,
    )

    assert ending(run) == (
        "The run ended about 4 s before its budget: too little was left for one more trial "
        "and refit of XGBoost."
    )


def test_it_says_nothing_when_the_continued_search_ran_its_trials_or_the_budget_was_used(owner):
    searches = {"linear": search("trials", "all 20 trials ran"), "xgboost": search("trials")}
    assert ending(ended_run(owner, searches, seconds_ago=26)) == ""
    late = {"linear": search("trials", "all 20 trials ran"), "xgboost": search("time")}
    assert ending(ended_run(owner, late, seconds_ago=29)) == ""


def test_it_says_a_search_left_out_of_reach_when_the_continued_one_converged(owner):
    run = ended_run(
        owner,
        {"xgboost": search("trials", "all 40 trials ran"), "random_forest": search("trials")},
        seconds_ago=24,
        out_of_reach=["random_forest"],
    )

    assert ending(run) == (
        "The run ended about 6 s before its budget: Random_Forest trailed the leader by more "
        "than their whole search had gained, so more trials would not change the "
        "recommendation."
    )
