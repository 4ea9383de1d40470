"""Permutation importance: scikit-learn's, on the fitted Pipeline, per column of the table."""

import numpy as np
import pandas as pd
import pytest

from analysis.automl.candidates import get_candidate
from analysis.automl.importance import permutation_importance
from analysis.automl.metrics import metric_score
from analysis.automl.preprocess import FeatureSpec

FEATURES = FeatureSpec(numeric=["size", "noise"], categorical=["shape"], datetime=["since"])


def table(rows: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=rows),
            "noise": rng.normal(size=rows),
            "shape": rng.choice(["round", "square"], size=rows),
            "since": pd.date_range("2020-01-01", periods=rows, freq="D").astype(str),
        }
    )
    y = 3 * frame["size"].to_numpy() + (frame["shape"] == "round") + rng.normal(size=rows) * 0.1
    return frame, y


def importance(metric: str, seed: int = 0) -> list[dict]:
    frame, y = table()
    pipeline = get_candidate("linear").build({}, features=FEATURES, task="regression", seed=0)
    pipeline.fit(frame.iloc[:400], y[:400])
    return permutation_importance(
        pipeline,
        frame.iloc[400:],
        y[400:],
        FEATURES.columns,
        task="regression",
        score=lambda y, p, q: metric_score("regression", metric, y, p, q),
        metric=metric,
        seed=seed,
    )


def test_it_ranks_the_table_own_columns_a_date_as_one():
    rows = importance("r2")

    assert sorted(row["feature"] for row in rows) == ["noise", "shape", "since", "size"]
    assert [row["feature"] for row in rows[:2]] == ["size", "shape"]


@pytest.mark.parametrize("metric", ["r2", "rmse"])
def test_a_useful_column_loses_score_whichever_way_the_metric_points(metric):
    rows = {row["feature"]: row for row in importance(metric)}

    assert rows["size"]["importance"] > 1.0
    assert abs(rows["noise"]["importance"]) < 0.05


def test_the_same_seed_gives_the_same_importance_and_another_seed_other_shuffles():
    assert importance("r2", seed=3) == importance("r2", seed=3)
    assert importance("r2", seed=3) != importance("r2", seed=4)
