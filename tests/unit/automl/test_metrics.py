import numpy as np
import pytest

from analysis.automl.metrics import (
    leaderboard_order,
    metric_score,
    reliability_bins,
    score_predictions,
)


def test_it_ranks_higher_scores_first():
    scores = {"linear": {"r2": 0.5}, "decision_tree": {"r2": 0.7}, "random_forest": {"r2": 0.6}}
    assert leaderboard_order(scores, "r2") == ["decision_tree", "random_forest", "linear"]


def test_it_ranks_lower_errors_first():
    scores = {"linear": {"rmse": 3.0}, "decision_tree": {"rmse": 1.0}}
    assert leaderboard_order(scores, "rmse") == ["decision_tree", "linear"]


def test_it_breaks_ties_for_the_simpler_family():
    scores = {"linear": {"accuracy": 0.9}, "xgboost": {"accuracy": 0.9}}
    assert leaderboard_order(scores, "accuracy") == ["linear", "xgboost"]


def test_it_scores_perfect_regression_as_one():
    assert score_predictions("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])["r2"] == 1.0


def test_near_ties_within_the_leaders_cv_spread_go_to_the_simpler_model():
    scores = {"xgboost": {"r2": 0.81}, "linear": {"r2": 0.80}, "decision_tree": {"r2": 0.6}}

    tied = leaderboard_order(scores, "r2", noise={"xgboost": 0.02, "linear": 0.02})
    clear = leaderboard_order(scores, "r2", noise={"xgboost": 0.005, "linear": 0.005})

    assert tied == ["linear", "xgboost", "decision_tree"]
    assert clear == ["xgboost", "linear", "decision_tree"]


def test_mape_only_when_no_actual_value_is_zero():
    assert score_predictions("regression", [1.0, 2.0], [1.1, 1.8])["mape"] == pytest.approx(0.1)
    assert "mape" not in score_predictions("regression", [0.0, 2.0], [0.1, 1.8])


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    proba = np.array([[0.75, 0.25]] * 4)
    right = score_predictions("binary", [0, 0, 0, 1], [0, 0, 0, 0], proba)
    overconfident = score_predictions("binary", [0, 1, 0, 1], [0, 0, 0, 0], proba)

    assert right["ece"] == pytest.approx(0.0)
    assert overconfident["ece"] == pytest.approx(0.25)
    bins = reliability_bins([0, 0, 0, 1], proba)
    assert bins == [{"low": 0.7, "high": 0.8, "confidence": 0.75, "accuracy": 0.75, "count": 4}]


def test_the_fast_fold_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y, guess = rng.normal(size=50), rng.normal(size=50)
    full = score_predictions("regression", y, guess)

    for name in ("r2", "rmse", "mae"):
        assert metric_score("regression", name, y, guess) == pytest.approx(full[name])
