import pytest

from analysis.automl.target_rule import is_weight_like, suggest_target


def columns(*pairs: str) -> list[dict]:
    """Profile columns from "name:kind" strings (kind numeric when left out)."""
    parts = (pair.partition(":") for pair in pairs)
    return [{"name": name, "kind": kind or "numeric"} for name, _, kind in parts]


def test_a_column_named_like_a_target_wins_wherever_it_stands():
    suggestion = suggest_target(columns("Price", "carat", "depth"))

    assert suggestion.column == "Price"
    assert suggestion.reason == "its name, “Price”, is a usual name for a target"


def test_y_beside_x_is_a_coordinate_not_a_target():
    diamonds = columns("carat", "cut:categorical", "price", "x", "y", "z")

    assert suggest_target(diamonds).column == "price"
    assert suggest_target(columns("x", "y", "z")).column == "z"
    assert suggest_target(columns("a", "y", "b")).column == "y"


def test_the_last_column_that_is_neither_weight_identifier_constant_nor_text():
    survey = columns("row_id:identifier", "age", "income", "notes:text", "region:constant", "wght")

    suggestion = suggest_target(survey)

    assert suggestion.column == "income"
    assert "last column that is not an identifier, a weight" in suggestion.reason


def test_a_target_name_on_an_identifier_is_passed_over():
    assert suggest_target(columns("label:identifier", "a", "b")).column == "b"


def test_nothing_to_suggest_when_no_column_fits():
    assert suggest_target(columns("id:identifier", "note:text")) is None


@pytest.mark.parametrize(
    "name", ["wght", "WGT", "fnlwgt", "weight", "sample_weight", "Survey Weight", "pweight", "wt"]
)
def test_weight_like_names(name):
    assert is_weight_like(name)


@pytest.mark.parametrize("name", ["height", "newt", "width", "w", "eight", "weighted_score_x"])
def test_names_that_only_look_like_weights(name):
    assert not is_weight_like(name)
