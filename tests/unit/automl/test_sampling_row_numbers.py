"""Every sampled row carries its place in the file, whatever the strategy."""

import pytest

from analysis.automl.errors import ProblemError
from analysis.automl.sampling import ROW_NUMBER, sample_table
from tests.conftest import churn_frame

STRATEGIES = [
    {"max_rows": 400},
    {"max_rows": None},
    {"max_rows": 400, "strategy": "stratified"},
    {"max_rows": 400, "strategy": "time_based", "time_column": "signup_date"},
]


@pytest.mark.parametrize("options", STRATEGIES, ids=lambda o: o.get("strategy", "random"))
def test_it_numbers_each_sampled_row_by_its_place_in_the_file(tmp_path, options):
    path = tmp_path / "groups.parquet"
    frame = churn_frame(rows=3000)
    frame.loc[::7, "churned"] = None
    frame.to_parquet(path, row_group_size=700, index=False)

    sample, _ = sample_table(path, target="churned", seed=3, **options)

    assert sample[ROW_NUMBER].is_unique
    place = frame.iloc[sample[ROW_NUMBER]]
    assert list(place["customer_id"]) == list(sample["customer_id"])


def test_it_numbers_the_rows_of_a_csv_upload_in_file_order(tmp_path):
    path = tmp_path / "churn.csv"
    frame = churn_frame(rows=500)
    frame.to_csv(path, index=False)

    sample, _ = sample_table(path, target="churned", seed=0, max_rows=100)

    assert list(frame.iloc[sample[ROW_NUMBER]]["customer_id"]) == list(sample["customer_id"])


def test_it_refuses_a_file_with_a_column_of_the_reserved_name(tmp_path):
    path = tmp_path / "reserved.csv"
    churn_frame(rows=100).assign(**{ROW_NUMBER: 1}).to_csv(path, index=False)

    with pytest.raises(ProblemError, match="reserved"):
        sample_table(path, target="churned", seed=0, max_rows=50)
