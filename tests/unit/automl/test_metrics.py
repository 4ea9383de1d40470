import numpy as np
import pytest

from analysis.automl.metrics import metric_score, reliability_bins, score_predictions


def test_it_scores_perfect_regression_as_one():
    assert score_predictions("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])["r2"] == 1.0


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


def test_the_single_classification_metrics_agree_with_the_full_scores():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 60)
    proba = rng.dirichlet([1, 1, 1], 60)
    guess = proba.argmax(axis=1)
    full = score_predictions("multiclass", y, guess, proba)

    for name in ("accuracy", "balanced_accuracy", "f1_macro", "log_loss"):
        assert metric_score("multiclass", name, y, guess, proba) == pytest.approx(full[name])
