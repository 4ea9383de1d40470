from dataclasses import replace

from analysis.automl.insights import RankedCandidate, run_insights


def insights(ranked, metric="r2"):
    return run_insights(
        ranked, metric=metric, sample_rows=100, total_rows=100, failed=[], dropped={}
    )


def test_it_recommends_the_cv_leader_and_says_its_lead_is_real():
    leader = RankedCandidate("XGBoost", {"r2": 0.91}, 0.9, 0.01, folds=5)
    leader = replace(leader, holdout_ci=[0.88, 0.93])
    beaten = RankedCandidate("Linear", {"r2": 0.8}, 0.79, 0.02, tied_with_first=False)
    ranked = [leader, replace(beaten, p_value=0.001)]

    first = insights(ranked)[0]

    assert first.startswith("Use XGBoost: it has the best cross-validated R²")
    assert "0.9000 ± 0.0100 over 5 folds" in first
    assert "lead of 0.1100 over Linear (0.7900) is real" in first and "p = 0.001" in first
    assert "0.9100 (95% interval 0.8800 to 0.9300)" in first


def test_it_says_when_the_runner_up_is_tied_with_the_leader():
    ranked = [
        RankedCandidate("XGBoost", {"r2": 0.91}, 0.90, 0.01, folds=5),
        RankedCandidate("Forest", {"r2": 0.9}, 0.89, 0.02, tied_with_first=True, p_value=0.4),
    ]  # fmt: skip

    assert "not significant" in insights(ranked)[0] and "tied" in insights(ranked)[0]


def test_a_near_tie_says_the_simpler_model_was_preferred():
    ranked = [
        RankedCandidate("Linear", {"r2": 0.80}, cv_mean=0.8000, cv_std=0.01),
        RankedCandidate("XGBoost", {"r2": 0.81}, cv_mean=0.8005, cv_std=0.02),
    ]

    first = insights(ranked)[0]

    assert first.startswith("Use Linear")
    assert "too small to matter" in first and "simpler" in first


def test_it_warns_about_a_model_that_learned_its_training_rows_by_heart():
    ranked = [
        RankedCandidate(
            "Decision Tree", {"accuracy": 0.7}, 0.72, 0.02, train_metrics={"accuracy": 1.0}
        )
    ]

    sentences = insights(ranked, metric="accuracy")

    assert any("may be overfitting" in s and "1.0000" in s for s in sentences)


def test_it_warns_when_the_holdout_falls_far_below_cross_validation():
    ranked = [RankedCandidate("Random Forest", {"r2": 0.5}, cv_mean=0.8, cv_std=0.02)]

    assert any("worse on the holdout" in s for s in insights(ranked))


def test_no_warning_for_a_model_that_generalises():
    ranked = [RankedCandidate("Linear", {"r2": 0.8}, 0.81, 0.02, train_metrics={"r2": 0.82})]

    assert len(insights(ranked)) == 1


def test_it_says_which_columns_were_target_encoded():
    ranked = [RankedCandidate("Linear", {"r2": 0.8}, cv_mean=0.8, cv_std=0.01)]

    sentences = run_insights(
        ranked, metric="r2", sample_rows=100, total_rows=100, failed=[], dropped={},
        target_encoded=["city"],
    )  # fmt: skip

    assert any(s.startswith("'city' has too many categories") for s in sentences)


def test_a_one_fold_score_ahead_of_the_recommendation_is_explained():
    ranked = [
        RankedCandidate("XGBoost", {"r2": 0.84}, cv_mean=0.8376, cv_std=0.002, folds=3),
        RankedCandidate(
            "LSTM", {"r2": 0.82}, 0.8451, 0.0, folds=1, tied_with_first=True, p_value=0.09
        ),
    ]

    first = insights(ranked)[0]

    assert first.startswith("Use XGBoost")
    assert "one validation split, 0.0075 higher" in first and "p = 0.090" in first


def test_equal_scores_are_called_a_tie():
    ranked = [
        RankedCandidate("Linear", {"r2": 0.80}, cv_mean=0.8, cv_std=0.01, folds=5),
        RankedCandidate("XGBoost", {"r2": 0.81}, 0.8, 0.01, folds=5, p_value=1.0),
    ]

    first = insights(ranked)[0]

    assert "ties with XGBoost (0.8000)" in first and "lead of 0.0000" not in first
