"""Deployments answer hostile input as the rest of the API does (test_hostile_inputs): a
4xx in the one error format, never a 500. Bodies are generated."""

import json

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from analysis import deployments
from tests.unit import test_hostile_inputs as shared
from tests.unit.test_hostile_inputs import (
    assert_answered_with_a_sentence,
    hostile,
    hostile_tally,  # noqa: F401 (the module's share of the tally)
    huge,
    nasty_json_text,
    prediction_bodies,
    raw_bodies,
)

# Two models trained once, and the owner's candidates of them.
model_dirs, trained = shared.model_dirs, shared.trained

pytestmark = pytest.mark.django_db

numbers = st.one_of(st.integers(-5, 105), huge, st.floats(allow_nan=False), nasty_json_text)
SETTING = {"mode": st.sampled_from(["split", "shadow", "both"]), "challenger_percent": numbers}


@pytest.fixture
def deployment(owner, trained):
    champion, challenger = trained
    return deployments.deployment_create(
        owner=owner, name="d", champion=champion, challenger=challenger, challenger_percent=50
    )


def _with_choice(body: str, arm, request_id) -> str:
    """The body with an "arm" and a "request_id" when it is a JSON object."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested past what json reads
        return body
    if not isinstance(data, dict):
        return body
    return json.dumps({**data, "arm": arm, "request_id": request_id})


@hostile
@given(
    body=prediction_bodies(),
    arm=st.one_of(st.sampled_from(["champion", "challenger"]), nasty_json_text, huge),
    request_id=st.one_of(nasty_json_text, huge, st.none()),
)
def test_it_answers_any_prediction_body_with_a_sentence(
    owner_client, deployment, body, arm, request_id
):
    url = reverse("api_deployment_predict", args=[deployment.pk])
    for sent in (body, _with_choice(body, arm, request_id)):
        assert_answered_with_a_sentence(
            owner_client.post(url, sent, content_type="application/json")
        )


@hostile
@given(body=raw_bodies(SETTING))
def test_it_answers_any_setting_with_a_sentence(owner_client, deployment, body):
    url = reverse("api_deployment_detail", args=[deployment.pk])
    assert_answered_with_a_sentence(owner_client.patch(url, body, content_type="application/json"))


@hostile
@given(
    body=raw_bodies(
        {
            **SETTING,
            "name": nasty_json_text,
            "champion": st.one_of(st.integers(), huge),
            "challenger": st.one_of(st.integers(), huge),
        }
    )
)
def test_it_answers_any_creation_with_a_sentence(owner_client, trained, body):
    response = owner_client.post(reverse("api_deployments"), body, content_type="application/json")
    assert_answered_with_a_sentence(response)
