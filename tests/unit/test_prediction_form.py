"""The prediction form: the model's known categories as a list, the observed range of a
number as a hint, and a value of the wrong type refused beside its field."""

import re

import pytest
from django.urls import reverse

from tests.unit.test_prediction_input import binary, record  # noqa: F401
from tests.unit.test_serving import fresh_serving, run  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(owner_client, binary):  # noqa: F811
    candidate, model, holdout = binary
    dataset = candidate.run.dataset
    dataset.profile = {
        **dataset.profile,
        "columns": [
            {"name": "x", "kind": "numeric", "min": -2.5, "max": 3.25},
            {"name": "amount", "kind": "numeric", "min": 12.0, "max": 1980.0},
            {"name": "plan", "kind": "categorical", "top_values": [["basic", 40]]},
        ],
    }
    dataset.save()
    return owner_client, candidate, holdout


def field_html(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[start : html.index("</p>", start)]


def test_categories_are_a_list_of_what_the_model_knows(page):
    client, candidate, _ = page
    html = client.get(reverse("candidate_predict", args=[candidate.pk])).content.decode()
    plan = field_html(html, "plan")
    options = re.findall(r'<option value="([^"]*)"', plan)
    assert options == ["", "basic", "plus", "pro", "rare"]  # the encoder's, and missing
    assert "4 categories the model knows" in plan
    city = field_html(html, "city")  # target-encoded: its 40 categories too
    assert len(re.findall(r"<option ", city)) == 41
    assert '<select id="' in html.split('name="plan"')[0][-80:]


def test_numbers_show_the_observed_range(page):
    client, candidate, _ = page
    html = client.get(reverse("candidate_predict", args=[candidate.pk])).content.decode()
    assert "a number; observed from 12.00 to 1,980" in field_html(html, "amount")
    assert "a date, such as 2024-05-31" in field_html(html, "since")


def test_a_category_the_model_never_saw_stays_chosen_and_is_marked(page):
    client, candidate, holdout = page
    values = {k: "" if v is None else str(v) for k, v in record(holdout).items()}
    response = client.post(
        reverse("candidate_predict", args=[candidate.pk]), {**values, "plan": "platinum"}
    )
    assert response.status_code == 200
    assert "platinum (not seen in training)" in field_html(response.content.decode(), "plan")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("amount", "lots", "&#x27;lots&#x27; is not a number"),
        ("x", "1e300", "is too large"),
        ("since", "yesterday-ish", "is not a date"),
    ],
)
def test_a_wrong_value_is_refused_beside_its_field(page, column, value, message):
    client, candidate, holdout = page
    values = {k: "" if v is None else str(v) for k, v in record(holdout).items()}
    response = client.post(
        reverse("candidate_predict", args=[candidate.pk]), {**values, column: value}
    )
    assert response.status_code == 400
    field = field_html(response.content.decode(), column)
    assert 'data-testid="field-error"' in field and message in field
    assert 'aria-describedby="' in field and "-error" in field
