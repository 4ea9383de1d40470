"""How each column goes with the target: the measures on known data, and the dataset
page's chart from the table's profiled Parquet copy, with its rule under it."""

import json

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse

from analysis.automl.associations import (
    correlation_ratio,
    cramers_v,
    read_sample,
    target_associations,
)
from analysis.automl.ingest.source import IngestOptions
from analysis.automl.profile import profile_table
from analysis.models import Dataset
from analysis.storage import dataset_path


def table(rows=600, seed=3):
    rng = np.random.default_rng(seed)
    size = rng.normal(10, 3, rows)
    grade = rng.choice(["a", "b", "c"], rows)
    frame = pd.DataFrame(
        {
            "size": size,
            "noise": rng.normal(size=rows),
            "grade": grade,
            "colour": rng.choice(["red", "blue"], rows),
            "when": pd.date_range("2024-01-01", periods=rows, freq="D").astype(str),
        }
    )
    frame["price"] = -3 * size + 10 * (grade == "a") + rng.normal(size=rows)
    frame["band"] = np.where(frame["grade"] == "a", "top", "rest")
    return frame


KINDS = {
    "size": "numeric",
    "noise": "numeric",
    "grade": "categorical",
    "colour": "categorical",
    "when": "datetime",
    "price": "numeric",
    "band": "categorical",
}


def test_the_measures_on_known_data():
    assert correlation_ratio(pd.Series(list("aabb")), pd.Series([1.0, 1, 5, 5])) == 1.0
    assert correlation_ratio(pd.Series(list("abab")), pd.Series([1.0, 1, 5, 5])) == 0.0
    assert cramers_v(pd.Series(list("xxyy")), pd.Series(list("ppqq"))) == 1.0
    assert cramers_v(pd.Series(list("xyxy")), pd.Series(list("ppqq"))) == 0.0


def test_each_pair_of_kinds_gets_its_measure_strongest_first():
    found = target_associations(table(), "price", KINDS)
    by = {f["feature"]: f for f in found}
    assert set(by) == {"size", "noise", "grade", "colour", "band"}  # the date is left out
    assert by["size"]["measure"] == "Spearman ρ" and by["size"]["value"] < -0.7
    assert by["size"]["pearson"] < -0.7
    assert by["grade"]["measure"] == "correlation ratio η" and by["grade"]["value"] > 0.4
    assert by["noise"]["strength"] < 0.15 and by["colour"]["strength"] < 0.15
    assert [f["strength"] for f in found] == sorted((f["strength"] for f in found), reverse=True)

    classes = {f["feature"]: f for f in target_associations(table(), "band", KINDS)}
    assert classes["grade"]["measure"] == "Cramér's V" and classes["grade"]["value"] == 1.0
    assert classes["size"]["measure"] == "correlation ratio η"
    assert classes["price"]["value"] > 0.3


def test_a_target_of_another_kind_has_no_associations():
    assert target_associations(table(), "when", KINDS) == []


def test_the_sample_is_bounded_and_seeded(tmp_path):
    path = tmp_path / "t.parquet"
    table(3000).to_parquet(path, row_group_size=500)
    first = read_sample(path, ["size", "price"], rows=700, seed=1)
    assert len(first) == 700 and list(first.columns) == ["size", "price"]
    assert first.equals(read_sample(path, ["size", "price"], rows=700, seed=1))


@pytest.fixture
def priced(owner, tmp_path):
    cache.clear()
    dataset = Dataset(owner=owner, name="prices.csv", status=Dataset.Status.READY)
    dataset.file.save("prices.csv", ContentFile(table().to_csv(index=False).encode()), save=False)
    profile = profile_table(dataset_path(dataset), options=IngestOptions())  # the Parquet copy
    dataset.profile = profile.to_dict()
    dataset.save()
    return dataset


@pytest.mark.django_db
def test_the_dataset_page_charts_the_columns_against_the_suggested_target(owner_client, priced):
    html = owner_client.get(reverse("dataset_detail", args=[priced.pk])).content.decode()
    assert 'data-testid="associations"' in html
    target = html.split('data-testid="suggested-target">', 1)[1].split("<", 1)[0]
    spec = json.loads(
        html.split('id="fig-associations" type="application/json">', 1)[1].split("</script>")[0]
    )
    (bars,) = spec["data"]
    assert target in spec["layout"]["xaxis"]["title"]["text"]
    assert spec["layout"]["yaxis"]["title"]["text"] == "column"
    assert target not in bars["y"] and "when" not in bars["y"]
    assert "Spearman" in html.split('data-testid="associations-rule">', 1)[1].split("</p>")[0]


@pytest.mark.django_db
def test_without_the_parquet_copy_the_page_says_so(owner_client, priced):
    for copy in dataset_path(priced).parent.glob(".prices*.parquet"):
        copy.unlink()
    cache.clear()
    response = owner_client.get(reverse("dataset_detail", args=[priced.pk]))
    assert response.status_code == 200
    assert b"No column could be compared with" in response.content
