import pandas as pd

from analysis.automl.sampling import sample_table
from tests.conftest import churn_frame


def _csv(tmp_path, rows=1000):
    path = tmp_path / "t.csv"
    frame = churn_frame(rows=rows)
    frame.loc[:9, "churned"] = None
    frame.to_csv(path, index=False)
    return path


def test_it_draws_exactly_the_rows_asked_for(tmp_path):
    frame, result = sample_table(_csv(tmp_path), target="churned", max_rows=250, seed=1)
    assert len(frame) == 250
    assert (result.sample_rows, result.total_rows, result.usable_rows) == (250, 1000, 990)


def test_it_draws_the_same_rows_for_the_same_seed(tmp_path):
    path = _csv(tmp_path)
    first, _ = sample_table(path, target="churned", max_rows=100, seed=7)
    again, _ = sample_table(path, target="churned", max_rows=100, seed=7)
    other, _ = sample_table(path, target="churned", max_rows=100, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["customer_id"]) != set(other["customer_id"])


def test_it_leaves_out_rows_without_a_target(tmp_path):
    frame, result = sample_table(_csv(tmp_path), target="churned", max_rows=None, seed=0)
    assert frame["churned"].notna().all()
    assert len(frame) == 990
    assert not result.sampled
