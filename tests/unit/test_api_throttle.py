"""Each user has a share of the API per period, counted in the real Redis, so every web
process agrees; past it the answer is 429 with a sentence and Retry-After."""

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _rates(user: str | None):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "anon": None},
        }
    )


def _fresh_client(django_user_model, user_id: int) -> Client:
    """A client of a user whose id is far from those of other tests and sessions sharing
    this Redis database, with no requests counted yet."""
    user = django_user_model.objects.create_user(f"throttled-{user_id}", password="x", id=user_id)
    server = redis.Redis.from_url(settings.REDIS_URL)
    for key in server.scan_iter(f"promise:throttle_user_{user_id}:*"):
        server.delete(key)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def user_client(django_user_model):
    return _fresh_client(django_user_model, 987_654_321)


@pytest.fixture
def other_client(django_user_model):
    return _fresh_client(django_user_model, 987_654_322)


def test_it_answers_429_past_the_users_share(user_client):
    # Per hour: the count starts again at the top of each period, which three requests
    # of a few milliseconds are unlikely to straddle.
    with _rates("3/hour"):
        codes = [user_client.get(reverse("api_datasets")).status_code for _ in range(4)]
        refused = user_client.get(reverse("api_runs"))
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Too many requests")
    assert 0 < int(refused["Retry-After"]) <= 3600


def test_it_counts_each_user_apart(user_client, other_client):
    with _rates("2/hour"):
        for _ in range(3):
            user_client.get(reverse("api_datasets"))
        assert other_client.get(reverse("api_datasets")).status_code == 200


def test_it_lets_requests_through_when_redis_does_not_answer(user_client):
    with _rates("1/minute"), override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        codes = {user_client.get(reverse("api_datasets")).status_code for _ in range(3)}
    assert codes == {200}


def test_it_does_not_throttle_when_the_rate_is_unset(user_client):
    with _rates(None):
        codes = {user_client.get(reverse("api_datasets")).status_code for _ in range(5)}
    assert codes == {200}


def test_it_counts_clients_not_logged_in_by_their_connections_address(client):
    address, other = "10.98.76.54", "10.98.76.55"
    server = redis.Redis.from_url(settings.REDIS_URL)
    for key in server.scan_iter("promise:throttle_anon_10.98.76.5[45]:*"):
        server.delete(key)
    overrides = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": None, "anon": "2/hour"},
    }
    with override_settings(REST_FRAMEWORK=overrides):
        # A made-up X-Forwarded-For on each request does not make a new client.
        codes = [
            client.get(
                reverse("api_schema"), REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
            ).status_code
            for n in range(3)
        ]
        elsewhere = client.get(reverse("api_schema"), REMOTE_ADDR=other).status_code
    assert (codes, elsewhere) == ([200, 200, 429], 200)
