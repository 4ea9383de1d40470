"""The API describes itself: an OpenAPI 3 schema that generates without a warning, and
interactive docs whose scripts and styles all come from this site, none inline."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_generates_the_schema_without_a_warning(tmp_path):
    # --fail-on-warn raises SchemaGenerationError on the first warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert "openapi: 3" in (tmp_path / "s.yml").read_text()


def test_it_serves_the_schema_to_anyone(client):
    response = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/runs/", "/api/datasets/{id}/reread/", "/api/runs/{id}/cancel/"} <= set(
        schema["paths"]
    )


def test_it_documents_the_three_ways_to_log_in(client):
    response = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schemes = response.json()["components"]["securitySchemes"]
    assert {s.get("scheme") or s.get("in") for s in schemes.values()} == {
        "basic",
        "header",
        "cookie",
    }


@pytest.fixture
def docs(client):
    response = client.get(reverse("api_docs"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_docs_load_every_asset_from_this_site(docs):
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    static = [a for a in assets if a.startswith("/static/")]
    assert {a.rsplit("/", 1)[-1] for a in static} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    assert all(a.startswith(("/static/", "/api/docs/")) for a in assets), assets
    assert all(finders.find(a.removeprefix("/static/")) for a in static), static


def test_the_docs_have_no_inline_script_or_style(docs):
    assert not re.search(r"<script(?![^>]*\bsrc=)", docs)
    assert "<style" not in docs and "style=" not in docs


def test_the_docs_script_points_at_the_schema(client, docs):
    script_url = re.search(r'<script src="(/api/docs/\?[^"]+)"', docs).group(1)
    response = client.get(script_url.replace("&amp;", "&"))
    assert response["Content-Type"].startswith("application/javascript")
    assert reverse("api_schema") in response.content.decode()
