from analysis.automl.insights import RankedCandidate, run_insights


def insights(ranked, metric="r2"):
    return run_insights(
        ranked, metric=metric, sample_rows=100, total_rows=100, failed=[], dropped={}
    )


def test_it_recommends_the_leader_with_its_margin_and_cv():
    ranked = [
        RankedCandidate("XGBoost", {"r2": 0.91}, 2.0, cv_mean=0.90, cv_std=0.01),
        RankedCandidate("Linear", {"r2": 0.80}, 0.1, cv_mean=0.79, cv_std=0.02),
    ]

    first = insights(ranked)[0]

    assert first.startswith("Use XGBoost")
    assert "0.1100 ahead of Linear" in first
    assert "0.9000 ± 0.0100" in first


def test_a_near_tie_says_the_simpler_model_was_preferred():
    ranked = [
        RankedCandidate("Linear", {"r2": 0.80}, 0.1, cv_mean=0.80, cv_std=0.01),
        RankedCandidate("XGBoost", {"r2": 0.81}, 2.0, cv_mean=0.80, cv_std=0.02),
    ]

    first = insights(ranked)[0]

    assert first.startswith("Use Linear")
    assert "within the cross-validation noise" in first
    assert "simpler" in first


def test_it_warns_about_a_model_that_learned_its_training_rows_by_heart():
    ranked = [
        RankedCandidate(
            "Decision Tree", {"accuracy": 0.7}, 0.1, 0.72, 0.02, train_metrics={"accuracy": 1.0}
        )
    ]

    sentences = insights(ranked, metric="accuracy")

    assert any("may be overfitting" in s and "1.0000" in s for s in sentences)


def test_it_warns_when_the_holdout_falls_far_below_cross_validation():
    ranked = [RankedCandidate("Random Forest", {"r2": 0.5}, 1.0, cv_mean=0.8, cv_std=0.02)]

    assert any("worse on the holdout" in s for s in insights(ranked))


def test_no_warning_for_a_model_that_generalises():
    ranked = [RankedCandidate("Linear", {"r2": 0.8}, 0.1, 0.81, 0.02, train_metrics={"r2": 0.82})]

    assert len(insights(ranked)) == 1


def test_it_says_which_columns_were_target_encoded():
    ranked = [RankedCandidate("Linear", {"r2": 0.8}, 0.1, cv_mean=0.8, cv_std=0.01)]

    sentences = run_insights(
        ranked, metric="r2", sample_rows=100, total_rows=100, failed=[], dropped={},
        target_encoded=["city"],
    )  # fmt: skip

    assert any(s.startswith("'city' has too many categories") for s in sentences)
