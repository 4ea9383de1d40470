"""Password guessing is refused per user name and address, on every way to log in."""

import base64

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def _log_in(client, password, address="10.0.0.1", url=None):
    return client.post(
        url or reverse("login"),
        {"username": "owner", "password": password},
        REMOTE_ADDR=address,
    )


def _guess(client, address="10.0.0.1", url=None):
    """Fails LIMIT times; the last failure is already answered with the lockout."""
    for _ in range(LIMIT - 1):
        assert _log_in(client, "wrong-guess", address, url).status_code == 200
    assert _log_in(client, "wrong-guess", address, url).status_code == 429


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"owner:{password}".encode()).decode()


def _api(client, password, address="10.0.0.1"):
    return client.get(
        reverse("api_datasets"), HTTP_AUTHORIZATION=_basic(password), REMOTE_ADDR=address
    )


def test_it_lets_a_few_mistakes_through(client, owner):
    for _ in range(LIMIT - 1):
        _log_in(client, "wrong-guess")
    assert _log_in(client, "owner-pass-123").status_code == 302


def test_it_refuses_even_the_right_password_after_the_limit(client, owner):
    _guess(client)
    response = _log_in(client, "owner-pass-123")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302  # not logged in


def test_it_locks_out_only_that_name_from_that_address(client, owner):
    _guess(client)
    assert _log_in(Client(), "owner-pass-123", address="10.0.0.2").status_code == 302


def test_it_locks_out_the_admin_log_in(client, owner):
    owner.is_staff = True
    owner.save()
    admin_login = reverse("admin:login")
    _guess(client, url=admin_login)
    response = _log_in(client, "owner-pass-123", url=admin_login)
    assert response.status_code == 429


def test_it_counts_and_locks_out_basic_auth(client, owner):
    for _ in range(LIMIT - 1):
        assert _api(client, "wrong-guess").status_code in (401, 403)
    assert _api(client, "wrong-guess").status_code == 429
    response = _api(client, "owner-pass-123")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.json()["error"]
    assert int(response["Retry-After"]) > 0


def test_it_shares_the_count_between_the_form_and_basic_auth(client, owner):
    _guess(client)
    assert _api(client, "owner-pass-123").status_code == 429


def test_it_is_unlocked_in_the_admin(client, owner, django_user_model):
    _guess(client)
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    staff = Client()
    staff.force_login(admin)
    attempt = AccessAttempt.objects.get(username="owner")
    changelist = staff.get(reverse("admin:axes_accessattempt_changelist"))
    assert "owner" in changelist.content.decode()

    staff.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert _log_in(client, "owner-pass-123").status_code == 302
