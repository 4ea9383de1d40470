import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"


def _signup(client, username: str, password: str = PASSWORD):
    return client.post(
        reverse("signup"), {"username": username, "password1": password, "password2": password}
    )


def _page(client, url: str, name: str) -> str:
    """The page with the name and the per-request CSRF tokens blanked out."""
    page = client.get(url).content.decode().replace(name, "NAME")
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", page)


def test_it_signs_up_and_sends_the_new_user_to_log_in(client, django_user_model):
    response = _signup(client, "ada")
    assert response.status_code == 302 and response.url == reverse("login")
    assert django_user_model.objects.filter(username="ada").exists()
    assert client.post(reverse("login"), {"username": "ada", "password": PASSWORD}).url == "/"
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("taken", ["owner", "OWNER"])
def test_it_answers_a_taken_name_as_it_answers_a_free_one(client, owner, taken):
    free = _signup(client, "newcomer")
    free_page = _page(client, free.url, "newcomer")
    answer = _signup(client, taken)
    taken_page = _page(client, answer.url, taken)

    assert (answer.status_code, answer.url) == (free.status_code, free.url)
    assert taken_page == free_page
    assert "Now log in as “NAME”" in taken_page


def test_it_leaves_the_taken_names_account_as_it_was(client, owner, django_user_model):
    _signup(client, "Owner")
    assert django_user_model.objects.filter(username__iexact="owner").count() == 1
    response = client.post(reverse("login"), {"username": "owner", "password": "owner-pass-123"})
    assert response.status_code == 302


def test_it_explains_mismatched_passwords(client):
    response = client.post(
        reverse("signup"), {"username": "ada", "password1": "a-long-pass", "password2": "other"}
    )
    assert response.status_code == 200
    assert b"didn" in response.content  # "The two password fields didn't match."


def test_it_logs_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "owner-pass-123"})
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_it_gives_a_new_session_key_at_login(client, owner):
    # A session that existed before the log-in (one an attacker might have planted).
    before = SessionStore()
    before["seen_login_page"] = True
    before.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key

    client.post(reverse("login"), {"username": "owner", "password": "owner-pass-123"})

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before.session_key
    assert not SessionStore().exists(before.session_key)
