"""train_candidate end to end on tiny tables: search, refit, holdout metrics, chart data."""

import numpy as np
import pandas as pd
import pytest

from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.automl.search import SearchCancelled


def size_and_shape(*, regression: bool) -> pd.DataFrame:
    """150 rows whose target grows with size and is 4 higher for round shapes (or, for a
    classifier, "big" above 11); a column of noise beside them."""
    rng = np.random.default_rng(5)
    rows = 150
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 3, rows),
            "noise": rng.normal(size=rows),
            "shape": rng.choice(["round", "flat", "long"], rows),
        }
    )
    signal = frame["size"] + 4 * (frame["shape"] == "round")
    frame["target"] = signal if regression else np.where(signal > 11, "big", "small")
    return frame


def prepared(tmp_path, *, regression: bool):
    source = tmp_path / "table.csv"
    size_and_shape(regression=regression).to_csv(source, index=False)
    run_dir = tmp_path / "run"
    plan = prepare_run(
        source, run_dir, profile=profile_table(source), target="target", max_rows=None, seed=1
    )
    return run_dir, plan


def test_a_classifier_is_tuned_scored_and_charted(tmp_path):
    run_dir, plan = prepared(tmp_path, regression=False)
    progress = []

    outcome = train_candidate(
        run_dir,
        plan,
        "decision_tree",
        time_limit=20,
        progress=lambda done, best: progress.append(done),
    )

    assert progress == list(range(1, outcome.trials + 1))
    assert len(outcome.cv_scores) >= 2
    assert outcome.cv_mean == pytest.approx(np.mean(outcome.cv_scores))
    assert {"accuracy", "ece", "roc_auc"} <= set(outcome.metrics)
    charts = outcome.charts
    assert charts["confusion_matrix"]["labels"] == ["big", "small"]
    assert np.sum(charts["confusion_matrix"]["matrix"]) == plan.holdout_rows
    assert charts["roc"]["curves"] and charts["pr"]["curves"] and charts["reliability"]["bins"]
    importance = charts["feature_importance"]
    assert {row["feature"] for row in importance} == {"size", "noise", "shape"}
    assert importance[0]["feature"] == "size"
    assert [row["trial"] for row in charts["search_history"]] == progress


def test_a_regressor_gets_residual_charts_and_its_searched_parameters(tmp_path):
    run_dir, plan = prepared(tmp_path, regression=True)

    outcome = train_candidate(run_dir, plan, "linear", time_limit=20)

    assert outcome.metrics["r2"] > 0.8
    assert "mape" in outcome.metrics
    assert len(outcome.charts["actual_vs_predicted"]["actual"]) == plan.holdout_rows
    assert set(outcome.charts["residuals"]) == {"predicted", "residual"}
    assert set(outcome.params) == {"alpha"}


def test_the_same_seed_and_data_give_the_same_candidate(tmp_path):
    run_dir, plan = prepared(tmp_path, regression=True)

    first = train_candidate(run_dir, plan, "decision_tree", time_limit=None)
    second = train_candidate(run_dir, plan, "decision_tree", time_limit=None)

    assert first.params == second.params
    assert first.metrics == second.metrics


def test_cancelling_stops_the_candidate(tmp_path):
    run_dir, plan = prepared(tmp_path, regression=True)

    with pytest.raises(SearchCancelled):
        train_candidate(run_dir, plan, "xgboost", time_limit=20, should_stop=lambda: True)
    assert not (run_dir / "candidates" / "xgboost").exists()
