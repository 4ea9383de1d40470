"""Finish now: the search stops between folds and keeps its best trial so far."""

import pytest

from analysis.automl.search import NothingToKeep
from tests.unit.automl.test_search import search


def after(calls: int):
    """A should_finish that says yes from its `calls`-th question on."""
    asked = []

    def should_finish() -> bool:
        asked.append(1)
        return len(asked) >= calls

    return should_finish


def test_it_keeps_the_best_trial_so_far_when_asked_to_finish():
    whole = search("decision_tree")
    # Asked once before each trial and each fold: the 12th question falls in trial 3.
    finished = search("decision_tree", should_finish=after(12))

    assert finished.stopped_by == "finish"
    assert 1 <= finished.trials < whole.trials
    assert [t.score for t in finished.history] == [t.score for t in whole.history][
        : finished.trials
    ]
    best = max(finished.history, key=lambda t: t.score)
    assert finished.cv_scores == best.fold_scores


def test_it_has_nothing_to_keep_when_asked_before_any_trial_ended():
    with pytest.raises(NothingToKeep, match="finished before this model completed a trial"):
        search("decision_tree", should_finish=after(3))
