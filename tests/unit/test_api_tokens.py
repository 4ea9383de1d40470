"""Personal API tokens: made and named on the account page, shown once, stored as a hash,
sent as `Authorization: Token …`, revoked one at a time; session and basic auth go on."""

import base64
import re
import time
import types

import pytest
from django.urls import reverse

from analysis import tokens
from analysis.tokens import ApiToken

pytestmark = pytest.mark.django_db


def _create(client, name="nightly report") -> str:
    response = client.post(reverse("api_tokens"), {"name": name})
    assert response.status_code == 201
    return re.search(r'value="(pmt_[^"]+)"', response.content.decode()).group(1)


def _get(client, url, key):
    return client.get(url, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def key(owner_client) -> str:
    return _create(owner_client)


def test_it_shows_the_new_token_once(owner_client, key):
    page = owner_client.get(reverse("api_tokens")).content.decode()
    assert "nightly report" in page and key[:10] in page and key not in page


def test_it_stores_only_a_hash_of_the_token(key):
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.shown) and len(token.key_hash) == 64


def test_it_opens_the_api_with_the_token(client, key, profiled_dataset):
    response = _get(client, reverse("api_datasets"), key)
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [profiled_dataset.pk]


def test_it_notes_when_a_token_was_last_used(client, key):
    _get(client, reverse("api_datasets"), key)
    assert ApiToken.objects.get().last_used_at is not None


def test_it_refuses_a_revoked_token(owner_client, client, key):
    token = ApiToken.objects.get()
    response = owner_client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    assert "Revoked" in response.content.decode()
    refused = _get(client, reverse("api_datasets"), key)
    assert refused.status_code == 401
    assert "not valid" in refused.json()["error"]


def test_it_remembers_a_checked_token_without_asking_the_database(key, django_assert_num_queries):
    assert tokens.token_owner(key) is not None
    with django_assert_num_queries(0):
        assert tokens.token_owner(key) is not None


def test_a_token_deleted_by_another_process_is_refused_within_the_cache_time(key, monkeypatch):
    assert tokens.token_owner(key) is not None
    ApiToken.objects.all().delete()  # elsewhere: this process's memory is not told
    assert tokens.token_owner(key) is not None
    later = time.monotonic() + tokens.settings.TOKEN_CACHE_SECONDS + 0.1
    monkeypatch.setattr(tokens, "time", types.SimpleNamespace(monotonic=lambda: later))
    assert tokens.token_owner(key) is None


def test_it_revokes_only_the_chosen_token(owner_client, client, key):
    other = _create(owner_client, "laptop")
    owner_client.post(reverse("api_token_revoke", args=[ApiToken.objects.get(name="laptop").pk]))
    assert _get(client, reverse("api_datasets"), key).status_code == 200
    assert _get(client, reverse("api_datasets"), other).status_code == 401


def test_it_does_not_revoke_another_users_token(outsider_client, key):
    token = ApiToken.objects.get()
    outsider_client.post(reverse("api_token_revoke", args=[token.pk]))
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_another_users_token_does_not_see_my_dataset(outsider_client, client, profiled_dataset):
    theirs = _create(outsider_client)
    assert (
        _get(client, reverse("api_dataset_detail", args=[profiled_dataset.pk]), theirs).status_code
        == 404
    )
    assert _get(client, reverse("api_datasets"), theirs).json()["results"] == []


def test_it_refuses_a_made_up_token(client):
    response = _get(client, reverse("api_datasets"), "pmt_" + "x" * 43)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_it_asks_for_a_name(owner_client):
    response = owner_client.post(reverse("api_tokens"), {"name": "   "})
    assert response.status_code == 400 and "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_it_limits_the_tokens_of_one_account(owner, owner_client):
    for number in range(tokens.MAX_TOKENS):
        tokens.token_create(owner=owner, name=f"t{number}")
    response = owner_client.post(reverse("api_tokens"), {"name": "one more"})
    assert response.status_code == 400 and "revoke one" in response.content.decode()


def test_it_keeps_basic_auth_working(client, owner):
    basic = base64.b64encode(b"owner:owner-pass-123").decode()
    assert (
        client.get(reverse("api_datasets"), HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200
    )


def test_it_keeps_session_auth_working(owner_client):
    assert owner_client.get(reverse("api_datasets")).status_code == 200


def test_the_token_page_needs_a_login(client):
    assert client.get(reverse("api_tokens")).status_code == 302
