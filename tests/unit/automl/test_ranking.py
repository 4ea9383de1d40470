import numpy as np
import pytest
from scipy import stats

from analysis.automl.ranking import Contender, corrected_ttest, holdout_interval, rank_candidates

FAMILIES = ["linear", "decision_tree", "random_forest", "xgboost", "lstm"]


def rank(contenders, metric="accuracy", **kwargs):
    return rank_candidates(contenders, metric, simplicity=FAMILIES, **kwargs)


def test_it_orders_by_the_cross_validated_score_alone():
    standings = rank(
        [
            Contender("linear", [0.70, 0.72, 0.71]),
            Contender("xgboost", [0.80, 0.81, 0.79]),
            Contender("decision_tree", [0.75, 0.74, 0.76]),
        ]
    )

    assert [s.name for s in standings] == ["xgboost", "decision_tree", "linear"]
    assert standings[0].rank == 1 and standings[0].tied_with_first is False


def test_it_ranks_lower_errors_first():
    standings = rank(
        [Contender("linear", [3.0, 3.1, 2.9]), Contender("decision_tree", [1.0, 1.1, 0.9])],
        metric="rmse",
    )

    assert [s.name for s in standings] == ["decision_tree", "linear"]


def test_a_near_tie_goes_to_the_simpler_model_but_a_real_lead_does_not():
    near = rank([Contender("xgboost", [0.8005] * 3), Contender("linear", [0.8000] * 3)])
    clear = rank([Contender("xgboost", [0.8067] * 3), Contender("linear", [0.7800] * 3)])

    assert [s.name for s in near] == ["linear", "xgboost"]
    assert [s.name for s in clear] == ["xgboost", "linear"]


def test_it_marks_a_candidate_tied_when_the_fold_differences_are_noise():
    leader = Contender("xgboost", [0.81, 0.79, 0.83, 0.80, 0.82])
    noisy = Contender("lstm", [0.80, 0.81, 0.80, 0.79, 0.81])
    beaten = Contender("linear", [0.70, 0.69, 0.72, 0.70, 0.71])

    standings = {s.name: s for s in rank([leader, noisy, beaten])}

    assert standings["xgboost"].rank == 1
    assert standings["lstm"].tied_with_first is True
    assert standings["linear"].tied_with_first is False
    assert standings["linear"].p_value < 0.05 < standings["lstm"].p_value


def test_a_one_fold_estimate_must_lead_the_others_spread_to_win():
    # The LSTM's inner validation split gives one score; the simpler XGBoost's folds
    # vary by as much as the gap, so XGBoost goes first.
    lstm = Contender("lstm", [0.8451])
    xgboost = Contender("xgboost", [0.8376, 0.8350, 0.8403])
    far_behind = Contender("linear", [0.50, 0.52, 0.51])

    close = rank([lstm, xgboost])
    clear = rank([lstm, far_behind])

    assert [s.name for s in close] == ["xgboost", "lstm"]
    assert close[1].tied_with_first is True and not close[1].paired
    assert [s.name for s in clear] == ["lstm", "linear"]
    assert clear[1].p_value < 0.05


def test_the_test_is_paired_only_on_the_same_folds():
    standings = {
        s.name: s
        for s in rank(
            [
                Contender("xgboost", [0.8, 0.82, 0.81], search_rows=1000),
                Contender("random_forest", [0.7, 0.72, 0.71], search_rows=1000),
                Contender("lstm", [0.6, 0.62], search_rows=1000),
            ]
        )
    }

    assert standings["random_forest"].paired and not standings["lstm"].paired


def test_the_corrected_test_matches_nadeau_and_bengio():
    a, b = np.array([0.81, 0.79, 0.83, 0.80, 0.82]), np.array([0.80, 0.78, 0.80, 0.79, 0.80])
    diff = a - b
    t = diff.mean() / np.sqrt((1 / 5 + 1 / 4) * diff.var(ddof=1))
    expected = 2 * stats.t.sf(abs(t), df=4)

    assert corrected_ttest(a, b, paired=True) == pytest.approx(expected)
    # The correction makes the test more cautious than the naive paired t-test.
    assert corrected_ttest(a, b, paired=True) > stats.ttest_rel(a, b).pvalue


def test_candidates_without_cv_come_last_untested():
    standings = rank([Contender("lstm", []), Contender("linear", [0.7, 0.7])])

    assert [s.name for s in standings] == ["linear", "lstm"]
    assert standings[1].p_value is None and standings[1].cv_mean is None


def test_the_holdout_interval_is_seeded_and_holds_the_score():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    guess = np.where(rng.random(400) < 0.8, y, 1 - y)

    first = holdout_interval("binary", "accuracy", y, guess, None, seed=3)
    again = holdout_interval("binary", "accuracy", y, guess, None, seed=3)

    assert first == again
    assert first[0] < np.mean(y == guess) < first[1]
    assert first[1] - first[0] < 0.1
