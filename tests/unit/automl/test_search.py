import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.automl.budget import (
    MIN_SEARCH_ROWS,
    SEARCH_SHARE,
    candidate_time_limit,
    fits_end,
    refit_room,
    search_rows,
    search_seconds,
    trial_count,
)
from analysis.automl.candidates import CANDIDATES, get_candidate
from analysis.automl.candidates.xgboost import MAX_TREES
from analysis.automl.convergence import CONVERGENCE_RULE, converged_by
from analysis.automl.folds import cv_splits
from analysis.automl.preprocess import FeatureSpec
from analysis.automl.search import (
    QUICK_CV_ROWS,
    SearchCancelled,
    SearchResult,
    TrialRecord,
    search_candidate,
)

FEATURES = FeatureSpec(numeric=["a", "b"], categorical=["c"], datetime=[])


def table(rows: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "c": rng.choice(["x", "y", "z"], rows).astype(object),
        }
    )
    y = ((frame["a"] + (frame["c"] == "x")) > 0.3).astype("int64").to_numpy()
    return frame, y


def search(name: str, **kwargs):
    frame, y = table()
    options = {"task": "binary", "metric": "accuracy", "seed": 3, "n_classes": 2}
    return search_candidate(
        get_candidate(name), frame, y, features=FEATURES, **{**options, **kwargs}
    )


def test_the_same_seed_gives_the_same_search():
    first, second = search("decision_tree"), search("decision_tree")

    assert first.params == second.params
    assert first.cv_scores == second.cv_scores
    assert [t.score for t in first.history] == [t.score for t in second.history]


def test_the_first_trial_is_the_cheap_default_and_the_best_is_no_worse():
    result = search("decision_tree")
    space = get_candidate("decision_tree").search_space(120, 5, "binary")

    first = result.history[0]
    assert {k: first.params[k] for k in space.init} == space.init
    assert result.cv_mean >= first.score
    assert result.trials == result.planned_trials > 1


def test_xgboost_keeps_the_tree_count_early_stopping_found():
    result = search("xgboost", time_limit=6)

    assert isinstance(result.params["n_estimators"], int)
    assert "early_stopping_rounds" not in result.params
    get_candidate("xgboost").build_estimator(result.params, task="binary", seed=3)


def test_a_forest_fold_stops_growing_at_its_clock_and_keeps_the_trees_it_grew():
    forest = get_candidate("random_forest")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 30))
    y = x[:, 0] + np.sin(x[:, 1])
    costly = {"n_estimators": 300, "max_features": 1.0, "min_samples_leaf": 1}
    fold = forest.build_estimator(costly, task="regression", seed=0)
    started = time.monotonic()
    learned = forest.fit_fold(fold, x, y, None, None, seconds=0.5)
    assert time.monotonic() - started < 4  # about 60 s without the clock
    assert learned["n_estimators"] == len(fold.estimators_) < 300

    # On time, the batches grow the very forest one fit grows.
    small = {"n_estimators": 25, "max_features": 0.3, "min_samples_leaf": 5}
    batched = forest.build_estimator(small, task="regression", seed=0)
    assert forest.fit_fold(batched, x[:2000], y[:2000], None, None, seconds=60) == {
        "n_estimators": 25
    }
    whole = forest.build_estimator(small, task="regression", seed=0).fit(x[:2000], y[:2000])
    np.testing.assert_array_equal(batched.predict(x[:500]), whole.predict(x[:500]))


def test_an_xgboost_fold_stops_at_its_clock_and_the_final_fit_is_not_cut():
    xgboost = get_candidate("xgboost")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 10))
    y = np.sin(x).sum(axis=1)  # a slow rate keeps improving: no early stop for long
    slow = {"learning_rate": 0.01, "max_depth": 10, "tree_method": "hist", "n_jobs": 1}
    fold = xgboost.build_estimator(xgboost.fold_params(slow), task="regression", seed=0)
    started = time.monotonic()
    learned = xgboost.fit_fold(fold, x[:16_000], y[:16_000], x[16_000:], y[16_000:], seconds=0.3)
    assert time.monotonic() - started < 5  # 24 s without the clock
    assert fold.get_booster().num_boosted_rounds() < MAX_TREES
    assert fold.best_iteration + 1 <= fold.get_booster().num_boosted_rounds()
    # The final fit learns from 20,000 rows, the fold's fit from 16,000: 1.25 times the trees.
    assert learned["n_estimators"] == round((fold.best_iteration + 1) * 1.25)

    final = xgboost.build_estimator({**slow, "n_estimators": 50}, task="regression", seed=0)
    xgboost.set_clock(final, 0.001)
    final.fit(x, y)
    assert final.get_booster().num_boosted_rounds() == 50


def test_the_portfolio_follows_the_first_trial_in_order_and_a_second_round_finishes_it():
    xgboost = get_candidate("xgboost")
    # Six trials whatever the machine's speed: no time limit, at most six.
    six = replace(xgboost, space=lambda *shape: replace(xgboost.space(*shape), max_trials=6))
    space = six.search_space(120, 5, "binary")
    frame, y = table()
    options = {"task": "binary", "metric": "accuracy", "seed": 3, "n_classes": 2}

    def starts(result):
        return [{k: t.params[k] for k in space.dimensions} for t in result.history]

    full = search_candidate(six, frame, y, features=FEATURES, **options)
    assert starts(full)[: 1 + len(space.portfolio)] == [space.init, *space.portfolio]

    first = first_round_of(full, 2)
    second = search_candidate(six, frame, y, features=FEATURES, warm_start=first, **options)
    assert starts(second)[2 : 1 + len(space.portfolio)] == list(space.portfolio[1:])
    assert starts(second).count(space.portfolio[0]) == 1


def test_progress_is_reported_after_each_trial():
    calls = []
    result = search("linear", progress=lambda done, best: calls.append((done, best)))

    assert [done for done, _ in calls] == list(range(1, result.trials + 1))
    assert calls[-1][1] == pytest.approx(result.cv_mean)


def test_a_stop_request_ends_the_search():
    with pytest.raises(SearchCancelled):
        search("linear", should_stop=lambda: True)


def test_time_ordered_folds_validate_on_later_rows():
    y = np.arange(50) % 2
    for train, valid in cv_splits(y, task="binary", folds=3, time_ordered=True, seed=0):
        assert train.max() < valid.min()


def test_stratified_folds_keep_both_classes_in_every_fold():
    y = np.array([0] * 90 + [1] * 10)
    for _, valid in cv_splits(y, task="binary", folds=5, time_ordered=False, seed=0):
        assert set(y[valid]) == {0, 1}


def test_bigger_tables_get_fewer_trials_and_a_bigger_budget_more():
    space = get_candidate("random_forest").search_space(10_000, 20, "regression")

    small = trial_count(space, n_rows=1_000, n_cols=20, folds=3, seconds=30)
    large = trial_count(space, n_rows=50_000, n_cols=20, folds=3, seconds=30)
    longer = trial_count(space, n_rows=50_000, n_cols=20, folds=3, seconds=120)
    assert small > large >= space.min_trials
    assert longer > large


def test_the_budget_is_shared_by_weight_and_fits_two_workers():
    limits = {c.name: candidate_time_limit(c.name, 120, workers=2) for c in CANDIDATES}

    assert limits["xgboost"] > limits["linear"]
    assert sum(limits.values()) <= 2 * 120


def test_a_table_too_big_for_the_limit_is_searched_on_fewer_rows():
    space = get_candidate("xgboost").search_space(200_000, 30, "regression")

    def rows(n_rows, limit):
        seconds = search_seconds(space, n_rows=n_rows, n_cols=30, time_limit=limit)
        return search_rows(space, n_rows=n_rows, n_cols=30, folds=3, seconds=seconds)

    assert rows(3_000, 30) == 3_000
    assert MIN_SEARCH_ROWS < rows(200_000, 30) < rows(200_000, 60) < 200_000
    assert rows(200_000, 2) == MIN_SEARCH_ROWS
    lstm = get_candidate("lstm").search_space(200_000, 30, "regression")
    assert search_rows(lstm, n_rows=200_000, n_cols=30, folds=2, seconds=21) == 200_000


def test_a_cut_down_search_keeps_every_class_and_says_on_how_many_rows():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=20_000), "b": rng.normal(size=20_000)})
    y = np.where(frame["a"] > 0, 1, 0)
    y[:3] = 2  # a rare third class
    options = {"task": "multiclass", "metric": "accuracy", "seed": 0, "n_classes": 3}

    result = search_candidate(
        get_candidate("random_forest"),
        frame,
        y,
        features=FeatureSpec(numeric=["a", "b"], categorical=[], datetime=[]),
        time_limit=1.0,
        **options,
    )

    assert result.rows < 20_000
    assert result.cv_mean is not None and result.cv_mean > 0.9


def test_it_leaves_the_lstm_to_its_held_out_rows_when_its_limit_is_too_short():
    space = get_candidate("lstm").search_space(120, 5, "binary")
    too_short = space.fit_overhead * 3 / SEARCH_SHARE - 1  # below one 2-fold CV trial

    result = search("lstm", time_limit=too_short)

    assert result.inner_validation and not result.quick_cv
    assert result.trials == 0 and result.params["units"] == space.init["units"]


def test_it_gives_another_family_a_quick_cv_when_its_limit_is_too_short():
    frame, y = table(rows=3000)
    options = {"task": "binary", "metric": "accuracy", "seed": 3, "n_classes": 2}

    result = search_candidate(
        get_candidate("random_forest"), frame, y, features=FEATURES, time_limit=1.0, **options
    )

    assert result.quick_cv and not result.inner_validation
    assert len(result.cv_scores) == result.folds == 2
    assert result.drawn_rows == QUICK_CV_ROWS and result.trials == 1


def test_it_keeps_the_usual_cv_when_the_limit_holds_it():
    result = search("decision_tree", time_limit=30)

    assert not result.quick_cv and result.folds == 5


def first_round_of(result, trials: int) -> SearchResult:
    """`result` as if its search had stopped after `trials` trials."""
    history = result.history[:trials]
    best = max(history, key=lambda t: t.score)
    return replace(
        result,
        history=history,
        params=best.params,
        cv_scores=best.fold_scores,
        planned_trials=trials,
        converged="",
    )


def test_it_continues_a_search_with_new_points_and_keeps_the_first_trials():
    first = first_round_of(search("decision_tree"), 4)

    second = search("decision_tree", warm_start=first)

    assert second.history[:4] == first.history
    assert len(second.history) == second.planned_trials == 40
    assert second.converged == "all 40 trials ran"
    earlier = {tuple(sorted(t.params.items())) for t in first.history}
    assert not earlier & {tuple(sorted(t.params.items())) for t in second.history[4:]}
    assert [t.number for t in second.history] == list(range(40))


def test_a_second_rounds_clocked_fits_run_until_its_final_fit_needs_the_rest():
    limit = 12.0
    first_search = 100.0 + SEARCH_SHARE * limit
    assert fits_end(100.0, limit, typical_trial=None, folds=3) == pytest.approx(first_search)
    room = refit_room(1.0, folds=3, time_limit=limit)  # a 1 s trial: 0.75 s refit + 0.6 s
    assert fits_end(100.0, limit, typical_trial=1.0, folds=3) == pytest.approx(112.0 - room)
    assert 112.0 - room > first_search
    # Slow trials never leave the fits less than a first search has.
    assert fits_end(100.0, limit, typical_trial=9.0, folds=3) == pytest.approx(first_search)


def test_a_second_round_keeps_room_for_the_final_fit_its_first_round_measured():
    assert refit_room(4.0, folds=3, time_limit=8.0) == pytest.approx(4.0 / 2 * 1.5 + 0.4)
    assert refit_room(4.0, folds=3, time_limit=8.0, refit_seconds=1.0) == pytest.approx(1.9)
    # First-round trials of 6 s (five folds) in an 8 s second round: told from the trials,
    # the final fit leaves no room for one more (6 + 2.65 > 8); a measured 0.5 s fit does.
    slow = first_round_of(search("decision_tree"), 4)
    slow = replace(slow, history=[replace(t, seconds=6.0) for t in slow.history])
    assert slow.folds == 5

    guessed = search("decision_tree", time_limit=8.0, warm_start=slow)
    measured = search("decision_tree", time_limit=8.0, warm_start=replace(slow, refit_seconds=0.5))

    assert (guessed.trials, guessed.stopped_by) == (4, "time")
    assert measured.trials > 4 and measured.refit_seconds == 0.5


def test_a_continued_search_whose_folds_stop_on_a_clock_cuts_its_last_trial_short():
    # First-round trials of 3 s in a 3 s second round: a whole trial and the refit do
    # not fit, half a trial does. XGBoost's folds stop on a clock, the tree's do not.
    def slow_first_round(name):
        first = first_round_of(search(name, time_limit=20.0), 4)
        slow = [replace(t, seconds=3.0) for t in first.history]
        return replace(first, history=slow, refit_seconds=0.2)

    warm = slow_first_round("xgboost")
    started = time.monotonic()
    clocked = search("xgboost", time_limit=3.0, warm_start=warm)
    seconds = time.monotonic() - started
    tree = search("decision_tree", time_limit=3.0, warm_start=slow_first_round("decision_tree"))

    assert clocked.trials > 4 and clocked.stopped_by == "time"
    assert seconds < 3.0
    assert (tree.trials, tree.stopped_by) == (4, "time")


def test_a_continued_search_gives_its_folds_the_later_clock(monkeypatch):
    import analysis.automl.search as search_module

    clocks = []
    real = search_module.cross_validate

    def recording(*args, deadline, **kwargs):
        clocks.append(deadline - time.monotonic())
        return real(*args, deadline=deadline, **kwargs)

    monkeypatch.setattr(search_module, "cross_validate", recording)
    search("decision_tree", time_limit=60.0)
    first_round = max(clocks)
    first = first_round_of(search("decision_tree", time_limit=60.0), 4)
    clocks.clear()
    search("decision_tree", time_limit=60.0, warm_start=first)
    assert first_round <= SEARCH_SHARE * 60.0
    assert max(clocks) > SEARCH_SHARE * 60.0 + 10  # its trials take milliseconds


def test_it_continues_a_search_the_same_way_from_the_same_first_round():
    first = first_round_of(search("decision_tree"), 4)

    once, again = (search("decision_tree", warm_start=first) for _ in range(2))

    assert [t.params for t in once.history] == [t.params for t in again.history]
    assert once.cv_scores == again.cv_scores


def test_it_continues_on_the_first_rounds_rows_and_folds():
    frame, y = table(rows=6000)
    options = {"task": "binary", "metric": "accuracy", "seed": 3, "n_classes": 2}
    forest = get_candidate("random_forest")

    def run(**kwargs):
        return search_candidate(forest, frame, y, features=FEATURES, **options, **kwargs)

    first = run(time_limit=1.5)
    second = run(time_limit=6, warm_start=replace(first, converged=""))

    assert first.rows < 6000 and second.rows == first.rows
    assert second.folds == first.folds


def scored(*scores):
    return [TrialRecord(i, {}, s, [s], 0.1) for i, s in enumerate(scores)]


def test_it_calls_a_search_converged_by_the_stated_rule():
    def rule(history, max_trials=40, tunable=True, maximize=True):
        return converged_by(history, max_trials=max_trials, tunable=tunable, maximize=maximize)

    flat = scored(0.5, 0.8, 0.80, 0.8005, 0.79, 0.8, 0.7)
    rising = scored(0.5, 0.8, 0.80, 0.8005, 0.79, 0.8, 0.82)
    assert rule(flat) == "the last 5 trials did not improve it"
    assert rule(rising) == ""
    assert rule(scored(0.5, 0.6)) == ""  # too few trials to tell
    assert rule(scored(0.5, 0.6), max_trials=2) == "all 2 trials ran"
    assert rule(scored(0.5), tunable=False) == "nothing to tune"
    # An error that keeps falling is still improving.
    assert rule(scored(9, 5, 5, 5, 5, 5, 4), maximize=False) == ""
    assert "5 trials" in CONVERGENCE_RULE and "0.1%" in CONVERGENCE_RULE


class WorkerTimeLimit(Exception):
    """Stands in for Celery's SoftTimeLimitExceeded, raised in the middle of a trial."""


def test_the_callers_interrupt_ends_the_search_instead_of_failing_a_trial():
    def interrupted_after(calls: int):
        asked = []

        def should_finish():
            asked.append(1)
            if len(asked) == calls + 1:  # once, in the middle of the first trial
                raise WorkerTimeLimit()
            return False

        return should_finish

    with pytest.raises(WorkerTimeLimit):
        search("linear", should_finish=interrupted_after(3), interrupts=(WorkerTimeLimit,))
    # Without it, the same exception only fails the trials it happens in.
    result = search("linear", should_finish=interrupted_after(3))
    assert result.history[0].error is not None and result.trials > 1
