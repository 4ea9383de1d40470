"""Quality findings: each odd thing about a table is found, with a sentence and an action."""

import numpy as np
import pandas as pd
import pytest

from analysis.automl.kinds import MAX_CATEGORIES, DatasetProfile
from analysis.automl.preprocess import feature_spec
from analysis.automl.profile import profile_table
from analysis.automl.target_quality import target_findings
from tests.conftest import churn_frame


def _codes(profile, column=None):
    return {f.code for f in profile.findings if column is None or f.column == column}


@pytest.fixture
def messy(tmp_path):
    rng = np.random.default_rng(0)
    rows = 2000
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "country": ["PT"] * rows,
            "flag": ["a"] * (rows - 10) + ["b"] * 10,
            "comment": [None] * (rows - 40) + ["ok"] * 40,
            "amount": np.r_[rng.normal(100, 10, rows - 20), np.full(20, 10_000.0)],
            "code": [str(i % 300) for i in range(rows - 100)] + ["unknown"] * 100,
            "when": [f"2024-01-{i % 28 + 1:02d}" for i in range(rows - 30)] + ["soon"] * 30,
            "sku": [f"sku-{i % 400}" for i in range(rows)],
            "shop": [f"shop-{i % (MAX_CATEGORIES + 10)}" for i in range(rows)],
        }
    )
    frame = pd.concat([frame, frame.head(100)])
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    return profile_table(path)


@pytest.mark.parametrize(
    ("column", "code"),
    [
        ("country", "constant"),
        ("flag", "near_constant"),
        ("comment", "mostly_missing"),
        ("order_id", "identifier"),
        ("sku", "free_text"),
        ("shop", "high_cardinality"),
        ("code", "mixed_types"),
        ("amount", "outliers"),
        ("when", "unparseable_dates"),
    ],
)
def test_it_finds_each_kind_of_problem(messy, column, code):
    assert code in _codes(messy, column)


def test_findings_about_columns_say_what_the_models_do_with_them(messy):
    spec = feature_spec(messy, target="amount")
    said = {f.column: f"{f.message} {f.action}" for f in messy.findings if f.column}

    assert spec.high_cardinality == ["shop"] and "target encoding" in said["shop"]
    assert "sku" in spec.dropped and "left out" in said["sku"]
    assert "code" in spec.dropped and "read as free text, which is left out" in said["code"]
    assert "most frequent values become features" not in " ".join(said.values())


def test_it_counts_duplicate_rows(messy):
    finding = next(f for f in messy.findings if f.code == "duplicate_rows")
    assert messy.duplicate_rows == 100
    assert finding.message.startswith("100 rows")


def test_every_finding_has_a_sentence_and_an_action(messy):
    for finding in messy.findings:
        assert finding.severity in {"error", "warning", "info"}
        assert finding.message.endswith(".") and finding.action.endswith(".")


def test_it_warns_about_too_few_rows_for_the_columns(tmp_path):
    path = tmp_path / "tiny.csv"
    churn_frame(rows=25).to_csv(path, index=False)
    assert "too_few_rows" in _codes(profile_table(path))


def test_a_clean_table_has_no_warnings(churn_csv):
    severe = [f for f in profile_table(churn_csv).findings if f.severity != "info"]
    assert severe == []


def test_it_suspects_a_feature_that_gives_the_target_away(churn_csv):
    frame = churn_frame()
    frame["refund_issued"] = np.where(frame["churned"] == "yes", "Y", "N")
    profile = profile_table(_save(churn_csv, frame))
    codes = {(f.code, f.column) for f in target_findings(profile, frame, "churned", task="binary")}
    assert ("target_leakage", "refund_issued") in codes
    assert not any(code == "target_leakage" and col != "refund_issued" for code, col in codes)


def test_it_suspects_a_number_that_copies_a_numeric_target(churn_csv):
    frame = churn_frame()
    frame["charges_in_cents"] = frame["monthly_charges"] * 100
    profile = profile_table(_save(churn_csv, frame))
    found = target_findings(profile, frame, "monthly_charges", task="regression")
    assert [f.column for f in found if f.code == "target_leakage"] == ["charges_in_cents"]


def test_it_reports_class_imbalance(churn_csv):
    frame = churn_frame(rows=1000)
    frame["churned"] = ["yes"] * 20 + ["no"] * 980
    profile = profile_table(_save(churn_csv, frame))
    found = target_findings(profile, frame, "churned", task="binary")
    assert "class_imbalance" in {f.code for f in found}


@pytest.mark.parametrize(("task", "imbalanced"), [("binary", True), ("regression", False)])
def test_it_judges_class_imbalance_by_the_runs_task(churn_csv, task, imbalanced):
    frame = churn_frame(rows=1000)
    frame["churned"] = [1.0] * 20 + [0.0] * 980
    profile = profile_table(_save(churn_csv, frame))
    found = target_findings(profile, frame, "churned", task=task)
    assert ("class_imbalance" in {f.code for f in found}) is imbalanced


@pytest.mark.parametrize(
    ("values", "code"), [([None] * 400, "target_empty"), (["x"] * 400, "target_constant")]
)
def test_it_refuses_a_target_that_is_empty_or_has_one_value(churn_csv, values, code):
    frame = churn_frame()
    frame["churned"] = values
    profile = profile_table(_save(churn_csv, frame))
    found = target_findings(profile, frame, "churned", task="binary")
    assert [(f.code, f.severity) for f in found] == [(code, "error")]


def test_findings_survive_storage_and_old_profiles_still_load(messy):
    stored = DatasetProfile.from_dict(messy.to_dict())
    assert stored.findings == messy.findings
    old = messy.to_dict()
    del old["findings"], old["source"], old["duplicate_rows"]
    for column in old["columns"]:
        del column["quantiles"], column["histogram"]
    assert DatasetProfile.from_dict(old).findings == []


def _save(path, frame):
    frame.to_csv(path, index=False)
    return path


def _findings_of(tmp_path, frame: pd.DataFrame, column: str) -> list:
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return [f for f in profile_table(path).findings if f.column == column]


def test_zeros_in_an_otherwise_positive_measure_are_flagged_with_their_count(tmp_path):
    rng = np.random.default_rng(1)
    length = np.round(rng.uniform(3.7, 9.5, 5000), 2)
    length[:17] = 0.0  # like diamonds whose x, y or z is 0
    counts = rng.poisson(3, 5000)  # zeros are real counts here
    frame = pd.DataFrame({"x": length, "visits": counts, "price": rng.uniform(300, 900, 5000)})

    zeros = [f for f in _findings_of(tmp_path, frame, "x") if f.code == "suspect_zeros"]

    assert len(zeros) == 1
    assert zeros[0].message.startswith("17 values of 'x' (0.3%) are exactly 0")
    assert "missing values" in zeros[0].message
    assert not any(f.code == "suspect_zeros" for f in _findings_of(tmp_path, frame, "visits"))


def test_the_usual_range_of_a_non_negative_column_never_goes_below_its_minimum(tmp_path):
    rng = np.random.default_rng(2)
    price = np.r_[rng.lognormal(6, 0.4, 4990), np.full(10, 90_000.0)]
    frame = pd.DataFrame({"price": price})

    (outliers,) = [f for f in _findings_of(tmp_path, frame, "price") if f.code == "outliers"]

    low = outliers.message.split("usual range (")[1].split(" to ")[0]
    assert float(low.replace(",", "")) >= price.min() * 0.999


def test_a_share_above_zero_never_reads_as_0_0_percent():
    from analysis.automl.quality import percent

    assert percent(1 / 53_940) == "under 0.1%"
    assert percent(0.0) == "0.0%" and percent(0.0005) == "0.1%"
