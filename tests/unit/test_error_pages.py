"""The site's error pages: styled, with a sentence and the way back home; the API keeps
answering JSON."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_missing_page_says_so_and_leads_home(owner_client):
    response = owner_client.get("/datasets/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "/datasets/999999/" in page
    assert 'href="/"' in page and "Go to your datasets" in page
    assert "css/promise.css" in page


def test_a_missing_api_endpoint_still_answers_json(owner_client):
    response = owner_client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"].startswith("There is no such API endpoint")


def test_an_expired_form_gets_its_own_page():
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "The form had expired" in page and "Go to your datasets" in page


def test_forbidden_and_server_errors_are_styled(settings):
    settings.ROOT_URLCONF = "tests.e2e.error_urls"
    client = Client(raise_request_exception=False)
    forbidden = client.get("/test-forbidden/")
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.content.decode()
    broken = client.get("/test-broken/")
    page = broken.content.decode()
    assert broken.status_code == 500
    assert "Something went wrong on our side" in page and "Go to your datasets" in page
    assert "a failure on purpose" not in page
