"""A candidate whose limit is too short for cross-validation still has a score on rows it
did not train on (search.py, 4.): the LSTM on the rows it held out for itself."""

import numpy as np
import pandas as pd

from analysis.automl.discovery import train_candidate
from analysis.automl.fitted import FittedModel
from analysis.automl.metrics import metric_score
from analysis.automl.prepare import encode_target, prepare_run
from analysis.automl.profile import profile_table


def test_it_scores_the_lstm_on_the_training_rows_it_held_out(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"size": rng.normal(10, 3, 300), "noise": rng.normal(size=300)})
    frame["target"] = np.where(frame["size"] > 10, "big", "small")
    source = tmp_path / "table.csv"
    frame.to_csv(source, index=False)
    run_dir = tmp_path / "run"
    plan = prepare_run(
        source, run_dir, profile=profile_table(source), target="target", max_rows=None, seed=1
    )

    outcome = train_candidate(run_dir, plan, "lstm", time_limit=6)

    held_out = pd.read_parquet(run_dir / "train.parquet").iloc[216:]  # the last 10% of 240
    model = FittedModel.load(run_dir / "candidates" / "lstm")
    predicted, proba = model.predict_encoded(held_out)
    expected = metric_score(
        plan.task, plan.metric, encode_target(held_out["target"], plan), predicted, proba
    )
    assert outcome.charts["inner_validation_rows"] == 24
    assert outcome.cv_scores == [expected]
    assert outcome.trials == 0
