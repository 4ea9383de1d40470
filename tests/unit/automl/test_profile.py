import pytest

from analysis.automl.errors import DataFileError
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
