"""How the time the first round left is shared in the second round."""

import json

import pytest

from analysis.automl.convergence import CONVERGENCE_RULE
from analysis.automl.search import SearchResult
from analysis.automl.second_round import FirstRound, ended_early_sentence, plan_second_round


def first(name, *, converged="", trial=1.0, refit=1.0, score=None, spread=0.0, gain=0.0):
    return FirstRound(
        name=name,
        label=name.title(),
        converged=converged,
        trial_seconds=trial,
        refit_seconds=refit,
        score=score,
        spread=spread,
        gain=gain,
    )


def test_it_continues_only_the_searches_that_can_still_improve():
    plan = plan_second_round(
        [first("linear", converged="all 20 trials ran"), first("xgboost"), first("lstm")],
        seconds_left=40,
        budget=120,
    )

    assert set(plan.seconds) == {"xgboost", "lstm"}
    assert plan.converged == {"linear": "all 20 trials ran"}
    assert plan.seconds == pytest.approx({"xgboost": 40, "lstm": 40})  # one process each
    assert plan.sentence == ""


def test_it_shares_a_process_by_weight_and_fills_every_process():
    plan = plan_second_round(
        [first("random_forest"), first("xgboost"), first("lstm")], seconds_left=60, budget=120
    )

    # The heaviest alone on one process; the other two one after the other on the second.
    assert list(plan.seconds) == ["xgboost", "random_forest", "lstm"]
    assert plan.seconds["xgboost"] == pytest.approx(60)
    assert plan.seconds["random_forest"] + plan.seconds["lstm"] == pytest.approx(60)
    assert plan.seconds["random_forest"] > plan.seconds["lstm"]


def test_the_stored_plan_keeps_its_order_where_the_database_sorts_the_keys():
    plan = plan_second_round(
        [first("random_forest"), first("xgboost"), first("lstm")], seconds_left=60, budget=120
    )

    # PostgreSQL's jsonb gives an object's keys back sorted, not in the order written.
    stored = json.loads(json.dumps(plan.to_dict(), sort_keys=True))

    assert list(stored["seconds"]) != list(plan.seconds)
    assert stored["order"] == ["xgboost", "random_forest", "lstm"]


def test_it_leaves_out_a_search_whose_next_trial_does_not_fit_and_gives_its_time_away():
    plan = plan_second_round(
        [first("random_forest", trial=50), first("xgboost"), first("lstm")],
        seconds_left=30,
        budget=120,
    )

    assert plan.too_slow == ["random_forest"]
    assert plan.seconds == pytest.approx({"xgboost": 30, "lstm": 30})


def test_it_says_why_a_run_ended_early_when_every_search_converged():
    done = [first("linear", converged="all 20 trials ran"), first("xgboost", converged="x")]

    early = plan_second_round(done, seconds_left=50, budget=120)
    nearly_spent = plan_second_round(done, seconds_left=5, budget=120)

    assert not early.seconds
    assert "every model's search had converged" in early.sentence
    assert CONVERGENCE_RULE in early.sentence
    assert nearly_spent.sentence == ""


def test_it_says_when_the_time_left_was_too_short_for_a_search_that_could_improve():
    plan = plan_second_round([first("lstm", trial=40)], seconds_left=30, budget=120)

    assert not plan.seconds
    assert "too little for one more trial and refit of Lstm" in plan.sentence


def test_it_drops_the_slowest_search_first_so_a_quicker_one_gets_its_time():
    # 26 s on two processes: the forest and then the LSTM need far more than their shares;
    # without them the tree and the boosted trees each have a process to themselves.
    plan = plan_second_round(
        [
            first("xgboost", trial=15, refit=5),
            first("random_forest", trial=35, refit=20),
            first("lstm", trial=30, refit=7),
            first("decision_tree", trial=3, refit=3),
        ],
        seconds_left=26,
        budget=120,
    )

    assert plan.too_slow == ["random_forest", "lstm"]
    assert plan.seconds == {"xgboost": 26, "decision_tree": 26}


def searches(*converged: str, stopped_short: str = "") -> dict[str, SearchResult]:
    """Searches after both rounds, each with its `converged`; the one named
    `stopped_short` ended by its safety stop (the last of them, unconverged)."""
    named = {f"c{i}": why for i, why in enumerate(converged)}
    if stopped_short:
        named[stopped_short] = ""
    return {
        name: SearchResult(
            params={},
            cv_scores=[0.8],
            planned_trials=4,
            folds=3,
            seconds=5.0,
            stopped_by="time" if name == stopped_short else "trials",
            converged=why,
        )  # fmt: skip
        for name, why in named.items()
    }


def test_a_run_whose_continued_searches_converged_too_says_why_it_ended_early():
    converged = ["all 20 trials ran", "all 25 trials ran", "the last 5 trials did not improve it"]

    ended = ended_early_sentence(searches(*converged), continued=["c2"], seconds_left=8, budget=30)

    assert ended.startswith("The run ended about 8 s before its budget")
    assert (
        ended_early_sentence(searches(*converged, ""), continued=["c2"], seconds_left=8, budget=30)
        == ""
    )
    assert (
        ended_early_sentence(searches(*converged), continued=["c2"], seconds_left=2, budget=30)
        == ""
    )


def test_a_run_whose_continued_search_had_no_room_for_one_more_trial_says_so():
    ran = searches(
        "all 20 trials ran", "the last 5 trials did not improve it", stopped_short="xgboost"
    )
    labels = {"xgboost": "XGBoost"}

    ended = ended_early_sentence(
        ran, continued=["xgboost"], seconds_left=4, budget=30, labels=labels
    )

    assert ended == (
        "The run ended about 4 s before its budget: too little was left for one more trial "
        "and refit of XGBoost."
    )
    assert (
        ended_early_sentence(ran, continued=["xgboost"], seconds_left=2, budget=30, labels=labels)
        == ""
    )
    assert ended_early_sentence(ran, continued=[], seconds_left=4, budget=30) == ""


def test_a_run_ended_early_says_why_each_search_left_open_was_left():
    ran = searches("all 20 trials ran", "", "", "", stopped_short="c2")
    labels = {"c2": "XGBoost", "c3": "Random Forest", "c1": "Decision Tree"}

    ended = ended_early_sentence(
        ran,
        continued=["c2"],
        seconds_left=6,
        budget=30,
        labels=labels,
        out_of_reach=["c3"],
        too_slow=["c1"],
    )

    assert ended == (
        "The run ended about 6 s before its budget: too little was left for one more trial "
        "and refit of Decision Tree, XGBoost; Random Forest trailed the leader by more than "
        "their whole search had gained, so more trials would not change the recommendation."
    )


def test_a_candidate_further_behind_than_its_search_gained_is_not_continued():
    plan = plan_second_round(
        [
            first("xgboost", score=0.85, spread=0.001, gain=0.01),
            first("decision_tree", score=0.62, spread=0.004, gain=0.07),  # 0.23 behind
            first("lstm", score=0.84, spread=0.0, gain=0.0),  # 0.01 behind, gained nothing
            first("random_forest", score=0.845, spread=0.004, gain=0.0),  # within its noise
        ],
        seconds_left=40,
        budget=120,
    )

    assert plan.out_of_reach == ["decision_tree", "lstm"]
    assert set(plan.seconds) == {"xgboost", "random_forest"}


def test_a_search_out_of_reach_gets_a_process_the_others_leave_idle():
    plan = plan_second_round(
        [
            first("xgboost", score=0.85, spread=0.001, gain=0.01),
            first("decision_tree", score=0.62, spread=0.004, gain=0.07),  # 0.23 behind
            first("lstm", score=0.80, spread=0.0, gain=0.0),  # 0.05 behind: the closest
            first("linear", converged="all 20 trials ran", score=0.7),
        ],
        seconds_left=40,
        budget=120,
    )

    assert plan.seconds == pytest.approx({"xgboost": 40, "lstm": 40})
    assert plan.out_of_reach == ["decision_tree"]
    assert plan.sentence == ""


def test_a_run_whose_every_search_converged_says_so_though_one_trailed():
    plan = plan_second_round(
        [
            first("xgboost", converged="the last 5 trials did not improve it", score=0.98),
            first("lstm", converged="the budget allowed one fit", score=0.80),
        ],
        seconds_left=15,
        budget=30,
    )

    assert plan.seconds == {} and plan.out_of_reach == []
    assert plan.sentence.endswith(
        f"because every model's search had converged ({CONVERGENCE_RULE})."
    )


def test_it_says_why_it_ends_early_when_the_others_are_out_of_reach():
    plan = plan_second_round(
        [
            first("xgboost", converged="the last 5 trials did not improve it", score=0.85),
            # Behind, and one more trial and a refit would not fit in the 40 s left.
            first("decision_tree", score=0.62, spread=0.004, gain=0.07, trial=30, refit=10),
        ],
        seconds_left=40,
        budget=120,
    )

    assert plan.seconds == {}
    assert "Decision_Tree trailed it by more than their whole search had gained" in plan.sentence


def test_the_gain_and_the_score_are_signed_so_that_higher_is_better():
    from analysis.automl.search import SearchResult, TrialRecord

    history = [TrialRecord(n, {}, score, [score], 1.0) for n, score in enumerate([9.0, 7.0, 8.0])]
    search = SearchResult({}, [7.0, 7.2], 3, 2, "trials", 3.0, history)

    rmse = FirstRound.of("linear", "Linear", search, refit_seconds=1.0, maximize=False)

    assert rmse.score == pytest.approx(-7.1)
    assert rmse.gain == pytest.approx(2.0)
