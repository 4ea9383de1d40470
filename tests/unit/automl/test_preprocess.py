import numpy as np
import pandas as pd
import pytest

from analysis.automl.preprocess import (
    MAX_CATEGORIES,
    build_preprocessor,
    feature_spec,
    prepare_frame,
)
from analysis.automl.profile import profile_table


@pytest.fixture
def cities_csv(tmp_path):
    """A category of 60 cities whose own mean drives the target, and a 3-valued one."""
    rng = np.random.default_rng(0)
    rows = 3000
    city = rng.integers(0, 60, rows)
    frame = pd.DataFrame(
        {
            "city": [f"city-{c:02d}" for c in city],
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "size": rng.normal(size=rows),
        }
    )
    frame["price"] = city * 1.5 + frame["size"] + rng.normal(0, 0.5, rows)
    frame["segment"] = np.where(city % 3 == 0, "a", np.where(city % 3 == 1, "b", "c"))
    path = tmp_path / "cities.csv"
    frame.to_csv(path, index=False)
    return path


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
    preprocessor = build_preprocessor(spec, "binary").fit(
        prepare_frame(train, spec), train["churned"]
    )
    new = pd.DataFrame({"tenure": [3], "plan": ["enterprise"]})  # no date, no charges
    out = preprocessor.transform(prepare_frame(new, spec))
    assert out.shape == (1, preprocessor.transform(prepare_frame(train.head(1), spec)).shape[1])
    assert np.isfinite(out).all()


def test_it_reads_datetime_parts(churn_csv):
    spec = feature_spec(profile_table(churn_csv), target="churned")
    frame = prepare_frame(pd.DataFrame({"signup_date": ["2024-03-15"]}), spec)
    assert frame.loc[0, "signup_date__month"] == 3
    assert frame.loc[0, "signup_date__day_of_week"] == 4  # a Friday


def test_it_target_encodes_categories_with_many_values_and_one_hot_encodes_the_rest(cities_csv):
    spec = feature_spec(profile_table(cities_csv), target="price")

    assert spec.high_cardinality == ["city"]
    assert spec.one_hot == ["plan", "segment"]
    train = pd.read_csv(cities_csv)
    preprocessor = build_preprocessor(spec, "regression").fit(
        prepare_frame(train, spec), train["price"]
    )
    names = list(preprocessor.get_feature_names_out())
    assert names.count("city") == 1 and "plan_basic" in names
    assert len(names) < MAX_CATEGORIES  # not one column per city


def test_target_encoding_carries_the_category_means_and_takes_unknown_cities(cities_csv):
    spec = feature_spec(profile_table(cities_csv), target="price")
    train = pd.read_csv(cities_csv)
    preprocessor = build_preprocessor(spec, "regression").fit(
        prepare_frame(train, spec), train["price"]
    )
    city = list(preprocessor.get_feature_names_out()).index("city")
    new = pd.DataFrame({"city": ["city-00", "city-59", "atlantis"]})
    encoded = preprocessor.transform(prepare_frame(new, spec))[:, city]

    assert encoded[0] < encoded[2] < encoded[1]  # unknown: the overall mean, in between


def test_a_multiclass_target_gets_one_encoded_column_per_class(cities_csv):
    spec = feature_spec(profile_table(cities_csv), target="segment")
    train = pd.read_csv(cities_csv)

    preprocessor = build_preprocessor(spec, "multiclass").fit(
        prepare_frame(train, spec), train["segment"].map({"a": 0, "b": 1, "c": 2})
    )

    assert [n for n in preprocessor.get_feature_names_out() if n.startswith("city")] == [
        "city_0", "city_1", "city_2"
    ]  # fmt: skip


def test_without_target_encoding_every_category_column_is_one_hot(cities_csv):
    spec = feature_spec(profile_table(cities_csv), target="price", target_encoding=False)

    assert spec.high_cardinality == [] and "city" in spec.one_hot
