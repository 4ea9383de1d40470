from analysis.automl.metrics import leaderboard_order, score_predictions


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
