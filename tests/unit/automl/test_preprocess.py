import numpy as np
import pandas as pd

from analysis.automl.preprocess import build_preprocessor, feature_spec, prepare_frame
from analysis.automl.profile import profile_table


def test_it_leaves_out_identifiers_with_a_reason(churn_csv):
    spec = feature_spec(profile_table(churn_csv), target="churned")
    assert "customer_id" not in spec.columns
    assert "identifier" in spec.dropped["customer_id"]
    assert spec.datetime == ["signup_date"]


def test_it_leaves_out_excluded_columns(churn_csv):
    spec = feature_spec(profile_table(churn_csv), target="churned", excluded=("plan",))
    assert "plan" not in spec.columns


def test_it_handles_unknown_categories_and_missing_columns(churn_csv):
    spec = feature_spec(profile_table(churn_csv), target="churned")
    train = pd.read_csv(churn_csv)
    preprocessor = build_preprocessor(spec).fit(prepare_frame(train, spec))
    new = pd.DataFrame({"tenure": [3], "plan": ["enterprise"]})  # no date, no charges
    out = preprocessor.transform(prepare_frame(new, spec))
    assert out.shape == (1, preprocessor.transform(prepare_frame(train.head(1), spec)).shape[1])
    assert np.isfinite(out).all()


def test_it_reads_datetime_parts(churn_csv):
    spec = feature_spec(profile_table(churn_csv), target="churned")
    frame = prepare_frame(pd.DataFrame({"signup_date": ["2024-03-15"]}), spec)
    assert frame.loc[0, "signup_date__month"] == 3
    assert frame.loc[0, "signup_date__day_of_week"] == 4  # a Friday
