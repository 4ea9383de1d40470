"""Every endpoint of the API's schema, walked from the schema itself (a new endpoint is
covered without editing this file): another user's object is a 404 in the API's format,
for every method; a body that is not JSON, or names a field the endpoint does not take,
is a 4xx with a sentence, never a server error."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from analysis.api.errors import NOT_FOUND
from tests.unit.api_world import world  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

BODY_METHODS = ("post", "put", "patch")


def operations(client: Client) -> list[tuple[str, str, dict]]:
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return [
        (path, method, spec)
        for path, methods in schema.json()["paths"].items()
        for method, spec in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def kind_of(path: str) -> str:
    return path.split("/")[2]


def test_another_users_objects_are_not_found_by_any_endpoint(
    world,  # noqa: F811
    outsider_client,
):
    reached = set()
    for path, method, _ in operations(outsider_client):
        if "{id}" not in path or kind_of(path) not in world["ids"]:
            continue
        address = path.replace("{id}", str(world["ids"][kind_of(path)]))
        response = getattr(outsider_client, method)(address)
        assert response.status_code == 404, (method, address, response.content[:300])
        assert response.json() == {"error": NOT_FOUND}, (method, address)
        reached.add(kind_of(path))
    assert reached == set(world["ids"])


def test_a_body_that_is_not_json_gets_a_sentence_from_every_endpoint(
    world,  # noqa: F811
    owner_client,
):
    tried = 0
    for path, method, spec in operations(owner_client):
        if method not in BODY_METHODS or "application/json" not in spec.get("requestBody", {}).get(
            "content", {}
        ):
            continue
        address = _address(path, world)
        response = getattr(owner_client, method)(
            address, "{not json", content_type="application/json"
        )
        assert 400 <= response.status_code < 500, (method, address, response.content[:300])
        assert len(response.json()["error"].split()) >= 2, (method, address)
        tried += 1
    assert tried >= 4


def test_a_field_no_endpoint_takes_is_named_by_every_endpoint(
    world,  # noqa: F811
    owner_client,
):
    tried = 0
    for path, method, spec in operations(owner_client):
        content = spec.get("requestBody", {}).get("content", {})
        if method not in BODY_METHODS or not content:
            continue
        if "{" in path and ("{id}" not in path or kind_of(path) not in world["ids"]):
            continue  # nothing of the user's to address (its 404 comes first)
        address = _address(path, world)
        if "application/json" in content:
            body, kind = json.dumps({"surprise_field": 1}), "application/json"
            response = getattr(owner_client, method)(address, body, content_type=kind)
        else:  # multipart: the form's fields
            response = getattr(owner_client, method)(address, {"surprise_field": "1"})
        assert 400 <= response.status_code < 500, (method, address, response.content[:300])
        body = response.json()
        assert "surprise_field" in body["error"] or "surprise_field" in body.get("fields", {}), (
            method,
            address,
            body,
        )
        tried += 1
    assert tried >= 6


def _address(path: str, objects: dict) -> str:
    kind = kind_of(path)
    return (
        path.replace("{id}", str(objects["ids"].get(kind, 10**9)))
        .replace("{upload_id}", "nothing")
        .replace("{slug}", "nothing")
    )
