"""What every page tells the browser: the Content-Security-Policy, and no caching of a
signed-in user's pages; and the production settings that come from the environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d[0]}


def test_it_allows_only_the_sites_own_assets(client):
    policy = _policy(client.get(reverse("login")))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


def test_it_sends_the_policy_on_signed_in_pages_and_the_api(owner_client):
    for url in (reverse("home"), reverse("api_datasets")):
        assert "'unsafe-inline'" not in owner_client.get(url)["Content-Security-Policy"]


def test_it_keeps_signed_in_pages_out_of_every_cache(owner_client):
    for url in (reverse("home"), reverse("api_datasets")):
        cache_control = owner_client.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control


PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "false",
    "ALLOWED_HOSTS": "promise.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def _check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "promise.settings", **environment}
    # The browser tests' conftest allows Django's ORM in Playwright's event loop for the
    # whole test session; a deployment never sets that, and its check refuses it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checks_with_the_documented_variables():
    result = _check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_warns_when_the_variables_are_left_out():
    result = _check_deploy({"SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
