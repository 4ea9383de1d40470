import pandas as pd

from analysis.automl.sampling import ROW_NUMBER, sample_table
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


def test_it_keeps_each_class_share_within_one_row(tmp_path):
    path = tmp_path / "imbalanced.csv"
    frame = churn_frame(rows=2000)
    frame["churned"] = ["rare"] * 7 + ["common"] * 1593 + ["middle"] * 400
    frame.to_csv(path, index=False)
    sample, result = sample_table(
        path, target="churned", max_rows=500, seed=3, strategy="stratified"
    )
    counts = sample["churned"].value_counts()
    assert result.sample_rows == 500
    for label, total in {"rare": 7, "common": 1593, "middle": 400}.items():
        assert abs(counts[label] - total * 500 / 2000) <= 1


def test_it_keeps_a_class_rarer_than_one_row_in_the_sample(tmp_path):
    path = tmp_path / "rare.csv"
    frame = churn_frame(rows=1000)
    frame["churned"] = ["lonely"] + ["crowd"] * 999
    frame.to_csv(path, index=False)
    sample, _ = sample_table(path, target="churned", max_rows=100, seed=0, strategy="stratified")
    assert "lonely" in set(sample["churned"])
    assert len(sample) == 100


def test_it_takes_the_most_recent_rows_in_time_order(tmp_path):
    path = _csv(tmp_path)
    every, _ = sample_table(path, target="churned", max_rows=None, seed=0)
    sample, result = sample_table(
        path,
        target="churned",
        max_rows=100,
        seed=0,
        strategy="time_based",
        time_column="signup_date",
    )
    dates = pd.to_datetime(sample["signup_date"])
    assert dates.is_monotonic_increasing
    assert dates.min() >= pd.to_datetime(every["signup_date"]).nlargest(100).min()
    assert result.time_column == "signup_date"


def test_it_samples_any_format_through_the_normalised_copy(tmp_path):
    path = tmp_path / "upload.bin"
    frame = churn_frame(rows=300)
    frame.to_json(path, orient="records", lines=True)
    sample, result = sample_table(path, target="churned", max_rows=100, seed=2)
    assert (len(sample), result.total_rows) == (100, 300)
    assert set(sample.columns) == {*frame.columns, ROW_NUMBER}


def test_it_samples_with_the_same_overrides_as_the_profile(tmp_path):
    from analysis.automl.ingest import IngestOptions

    path = tmp_path / "report.csv"
    path.write_text("exported 2024\n" + churn_frame(rows=200).to_csv(index=False, sep=";"))
    options = IngestOptions(header_row=2, delimiter=";")
    sample, result = sample_table(path, target="churned", max_rows=50, seed=0, options=options)
    assert (len(sample), result.total_rows, "plan" in sample.columns) == (50, 200, True)


def test_it_draws_exactly_when_most_targets_are_missing(tmp_path):
    path = tmp_path / "sparse.csv"
    frame = churn_frame(rows=20_000)
    frame.loc[frame.index % 20 != 0, "churned"] = None  # 1,000 rows keep a target
    frame.to_csv(path, index=False)
    sample, result = sample_table(path, target="churned", max_rows=300, seed=0)
    assert len(sample) == 300 and sample["churned"].notna().all()
    assert result.usable_rows == 1000


def test_it_draws_from_every_row_group_of_a_parquet_upload(tmp_path):
    path = tmp_path / "upload.parquet"
    frame = churn_frame(rows=3000)
    frame["spend"] = [float("nan") if i % 3 == 0 else i * 0.5 for i in range(3000)]
    frame.to_parquet(path, row_group_size=500)
    sample, result = sample_table(path, target="spend", max_rows=1200, seed=4)
    assert (len(sample), result.usable_rows) == (1200, 2000)
    assert sample["spend"].notna().all()
    assert sample["spend"].max() > 1000 and sample["spend"].min() < 250


def test_it_draws_the_same_rows_whatever_the_batch_size(tmp_path, monkeypatch):
    from analysis.automl import sampling

    path = tmp_path / "groups.parquet"
    churn_frame(rows=3000).to_parquet(path, row_group_size=1500)
    whole, _ = sample_table(path, target="churned", max_rows=400, seed=5)
    monkeypatch.setattr(sampling, "BATCH_ROWS", 128)
    pieces, _ = sample_table(path, target="churned", max_rows=400, seed=5)
    pd.testing.assert_frame_equal(whole, pieces)
