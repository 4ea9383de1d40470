"""Rows checked against a model's feature schema, through the prediction API: a missing
column, a value of the wrong type and an unseen category, one record or a list."""

import numpy as np
import pytest
from django.urls import reverse

from analysis.prediction_input import FeatureSchema, InputRefused, check_rows
from tests.unit.test_serving import fresh_serving, make_candidate, run, save_model  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def binary(run, tmp_path):  # noqa: F811
    model, holdout = save_model(tmp_path / "tree", "decision_tree", "binary")
    return make_candidate(run, tmp_path / "tree"), model, holdout


def record(holdout, i=0):
    row = holdout.iloc[i].to_dict()
    return {k: (None if v != v else v) for k, v in row.items()}  # NaN as null


def post(client, candidate, body):
    return client.post(
        reverse("api_predict", args=[candidate.pk]), body, content_type="application/json"
    )


def test_it_answers_one_record_with_labels_and_probabilities(owner_client, binary):
    candidate, model, holdout = binary
    body = post(owner_client, candidate, {"row": record(holdout)}).json()
    assert body["predictions"] == model.predict(holdout.head(1))
    (probabilities,) = body["probabilities"]
    assert set(probabilities) == {str(c) for c in model.classes}
    assert abs(sum(probabilities.values()) - 1) < 1e-5


def test_it_answers_a_list_of_records(owner_client, binary):
    candidate, model, holdout = binary
    rows = [record(holdout, i) for i in range(5)]
    body = post(owner_client, candidate, {"rows": rows}).json()
    assert body["predictions"] == model.predict(holdout.head(5))
    assert len(body["probabilities"]) == 5


def test_it_names_a_missing_column(owner_client, binary):
    candidate, _, holdout = binary
    row = record(holdout)
    del row["amount"]
    response = post(owner_client, candidate, {"row": row})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "amount": ["this column of the model is missing; send null when the value is unknown."]
    }


def test_a_null_is_a_missing_value_the_model_imputes(owner_client, binary):
    candidate, _, holdout = binary
    response = post(owner_client, candidate, {"row": {**record(holdout), "amount": None}})
    assert response.status_code == 200


def test_it_names_each_value_of_the_wrong_type_with_its_row(owner_client, binary):
    candidate, _, holdout = binary
    rows = [record(holdout, i) for i in range(3)]
    rows[1]["x"] = "twelve"
    rows[2]["since"] = "not a date"
    rows[0]["plan"] = {"nested": 1}
    body = post(owner_client, candidate, {"rows": rows}).json()
    assert body["fields"] == {
        "x": ["row 2: 'twelve' is not a number; this column takes numbers."],
        "plan": ["row 1: this column takes a value (text or a number), not objects or lists."],
        "since": ["row 3: 'not a date' is not a date; send one such as 2024-05-31."],
    }
    assert body["error"].startswith("x: row 2")


def test_text_that_reads_as_a_number_is_a_number(owner_client, binary):
    candidate, model, holdout = binary
    row = {**record(holdout), "x": "1.5", "amount": "900"}
    assert post(owner_client, candidate, {"row": row}).status_code == 200


def test_an_unseen_category_is_predicted_and_listed(owner_client, binary):
    candidate, _, holdout = binary
    row = {**record(holdout), "plan": "platinum", "city": "atlantis"}
    body = post(owner_client, candidate, {"row": row}).json()
    assert body["unseen_categories"] == {"plan": ["platinum"], "city": ["atlantis"]}
    assert len(body["predictions"]) == 1


def test_extra_columns_are_ignored_and_listed(owner_client, binary):
    candidate, model, holdout = binary
    row = {**record(holdout), "customer_id": 7, "note": "hi"}
    body = post(owner_client, candidate, {"row": row}).json()
    assert body["ignored_columns"] == ["customer_id", "note"]
    assert body["predictions"] == model.predict(holdout.head(1))


def test_it_wants_row_or_rows_not_both(owner_client, binary):
    candidate, _, holdout = binary
    both = post(owner_client, candidate, {"row": record(holdout), "rows": [record(holdout)]})
    assert both.status_code == 400 and '"row"' in both.json()["error"]
    assert post(owner_client, candidate, {}).status_code == 400


@pytest.mark.parametrize("row", [[], "text", 3, None, [1, 2]])
def test_a_record_that_is_not_an_object_is_refused(owner_client, binary, row):
    candidate, _, _ = binary
    response = post(owner_client, candidate, {"row": row})
    assert response.status_code == 400 and response.json()["error"]


def test_another_users_model_is_not_found(outsider_client, binary):
    candidate, _, holdout = binary
    assert post(outsider_client, candidate, {"row": record(holdout)}).status_code == 404


SCHEMA = FeatureSchema(
    numeric=("x",),
    categorical=("plan",),
    datetime=("since",),
    categories={"plan": frozenset({"basic", "pro"})},
)


def test_the_checks_keep_only_the_models_columns_and_read_empty_cells_as_missing():
    rows = [{"x": float("nan"), "plan": np.str_("basic"), "since": "2024-05-31", "id": "7"}]
    checked = check_rows(SCHEMA, rows)
    assert checked.rows == [{"x": None, "plan": "basic", "since": "2024-05-31"}]
    assert checked.notes() == {"ignored_columns": ["id"]}


def test_many_bad_rows_are_counted_after_the_first_few_from_the_chunks_first_row():
    rows = [{"x": "bad", "plan": "pro", "since": None} for _ in range(8)]
    with pytest.raises(InputRefused) as refused:
        check_rows(SCHEMA, rows, first_row=101)
    messages = refused.value.fields["x"]
    assert messages[0].startswith("row 101: 'bad' is not a number")
    assert messages[-1] == "… and 3 more rows." and len(messages) == 6


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**40, "this value is too large"),
        (-1e39, "this value is too large"),
        ([1], "this column takes numbers, not objects or lists."),
    ],
)
def test_numbers_beyond_float32_and_lists_are_refused(value, message):
    with pytest.raises(InputRefused) as refused:
        check_rows(SCHEMA, [{"x": value, "plan": None, "since": None}])
    assert refused.value.fields["x"][0].startswith(message)


def test_a_date_in_another_format_still_reads_and_a_number_does_not():
    assert check_rows(SCHEMA, [{"x": 1, "plan": "pro", "since": "31 May 2024"}]).rows
    with pytest.raises(InputRefused) as refused:
        check_rows(SCHEMA, [{"x": 1, "plan": "pro", "since": 20240531}])
    assert refused.value.fields == {
        "since": ["this column takes a date as text, such as 2024-05-31."]
    }


def post_page(client, binary, **changes):
    """The prediction page's form, sent with the first holdout record and `changes`."""
    candidate, _, holdout = binary
    values = {k: "" if v is None else str(v) for k, v in record(holdout).items()}
    return client.post(reverse("candidate_predict", args=[candidate.pk]), {**values, **changes})


def test_the_prediction_page_shows_a_wrong_value_beside_its_field(owner_client, binary):
    response = post_page(owner_client, binary, amount="lots")
    assert response.status_code == 400
    assert b'data-testid="field-error">&#x27;lots&#x27; is not a number' in response.content


def test_the_prediction_page_says_which_category_it_never_saw(owner_client, binary):
    response = post_page(owner_client, binary, plan="platinum")
    assert response.status_code == 200
    assert b"<code>plan</code> = platinum." in response.content
