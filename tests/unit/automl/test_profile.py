import json

import numpy as np
import pandas as pd
import pytest

from analysis.automl import profile_pass
from analysis.automl.errors import DataFileError
from analysis.automl.ingest import remove_normalized, streaming
from analysis.automl.kinds import DatasetProfile, preview_rows
from analysis.automl.profile import profile_table
from tests.conftest import churn_frame


def test_it_counts_rows_and_reads_each_columns_kind(churn_csv):
    profile = profile_table(churn_csv)
    kinds = {c.name: c.kind for c in profile.columns}
    assert profile.rows == 400
    assert kinds == {
        "customer_id": "identifier",
        "tenure": "numeric",
        "monthly_charges": "numeric",
        "plan": "categorical",
        "signup_date": "datetime",
        "churned": "boolean",
    }


def test_it_counts_missing_values(churn_csv):
    assert profile_table(churn_csv).column("monthly_charges").missing == 20


def test_it_keeps_a_preview_of_fifty_rows(churn_csv):
    assert len(profile_table(churn_csv).preview) == 50


def test_it_keeps_the_preview_as_rows_of_values_in_column_order(tmp_path):
    path = tmp_path / "order.csv"
    path.write_text("zeta,alpha,mid\nz1,a1,m1\nz2,a2,m2\n")
    stored = json.loads(json.dumps(profile_table(path).to_dict()))
    assert [c["name"] for c in stored["columns"]] == ["zeta", "alpha", "mid"]
    assert stored["preview"] == [["z1", "a1", "m1"], ["z2", "a2", "m2"]]


def test_it_reads_older_profiles_whose_preview_rows_are_objects(churn_csv):
    stored = profile_table(churn_csv).to_dict()
    names = [c["name"] for c in stored["columns"]]
    rows = [dict(zip(names, row, strict=True)) for row in stored["preview"]]
    # As PostgreSQL's jsonb hands them back: keys sorted, not in the columns' order.
    stored["preview"] = [dict(sorted(row.items())) for row in rows]
    assert DatasetProfile.from_dict(stored).preview == profile_table(churn_csv).preview
    assert preview_rows(stored)[0] == [rows[0][name] for name in names]


def test_it_reads_semicolon_separated_files(tmp_path):
    path = tmp_path / "semi.csv"
    churn_frame(rows=60).to_csv(path, index=False, sep=";")
    assert len(profile_table(path).columns) == 6


@pytest.mark.parametrize(
    ("content", "phrase"),
    [(b"", "empty"), (b"a,b,c\n", "no data rows"), (b"\x00\x01\x02PNG" * 100, "binary data")],
)
def test_it_explains_files_it_cannot_read(tmp_path, content, phrase):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=phrase):
        profile_table(path)


def test_it_profiles_the_same_whatever_the_batch_size(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    frame = churn_frame(rows=3000)
    pd.concat([frame, frame.head(40)]).to_csv(path, index=False)
    whole = profile_table(path).to_dict()
    monkeypatch.setattr(streaming, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(profile_pass, "MERGE_BYTES", 16_384)
    remove_normalized(path)
    # Means and spreads too, to the last bit: they come from exact sums.
    assert profile_table(path).to_dict() == whole


def test_it_counts_duplicate_rows_across_batches(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    frame = churn_frame(rows=2000)
    pd.concat([frame, frame.sample(300, random_state=0)]).to_csv(path, index=False)
    monkeypatch.setattr(streaming, "BLOCK_SIZE", 4096)
    assert profile_table(path).duplicate_rows == 300


def test_it_estimates_many_distinct_values_within_a_few_percent(tmp_path):
    path = tmp_path / "codes.csv"
    rows = 60_000
    pd.DataFrame({"code": [f"k{i}" for i in range(rows)], "n": np.arange(rows) % 7}).to_csv(
        path, index=False
    )
    column = profile_table(path).column("code")
    assert column.distinct_is_estimate
    assert abs(column.distinct - rows) < 0.05 * rows
