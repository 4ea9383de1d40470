"""The short road of a prediction (analysis/api/prediction_route.py): a plain prediction
sent with a token is answered before most of the middleware and DRF, exactly as the API's
view answers it, and everything else goes on to the view."""

import json

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings

from analysis.api import prediction_route
from analysis.tokens import token_create
from tests.unit.api_world import world  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

ROW = {"customer_id": 1, "tenure": 12, "monthly_charges": 70.5, "plan": "basic"}
ROW["signup_date"] = "2021-06-01"
# The headers an answer must carry on either road (Date and such aside).
SAME_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
)


@pytest.fixture
def short_road(monkeypatch) -> list:
    """The answers the short road gave (its calls of the view's answer)."""
    answered = []
    answer = prediction_route.prediction_answer

    def counted(*args, **kwargs):
        answered.append(args)
        return answer(*args, **kwargs)

    monkeypatch.setattr(prediction_route, "prediction_answer", counted)
    return answered


def post(client: Client, world, body, **headers):  # noqa: F811 - world is an argument here
    address = f"/api/candidates/{world['ids']['candidates']}/predict/"
    text = body if isinstance(body, str) else json.dumps(body)
    return client.post(address, text, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        {"row": ROW},
        {"rows": [ROW, {**ROW, "plan": "pro", "tenure": 60}]},
        {"rows": [{**ROW, "extra": 1, "plan": "gold"}]},  # ignored column, unseen category
        {"row": {**ROW, "tenure": "twelve"}},  # wrong type: 400 naming the field
        {"row": {"tenure": 3}},  # missing columns
        {"rows": []},
        {"rows": "not a list"},
    ],
)
def test_the_short_road_answers_as_the_view_does(
    world,  # noqa: F811
    owner_client,
    short_road,
    body,
):
    fast = post(Client(), world, body, Authorization=world["headers"]["Authorization"])
    assert len(short_road) == 1
    usual = post(owner_client, world, body)  # a session: the usual road
    assert len(short_road) == 1
    assert (fast.status_code, fast.json()) == (usual.status_code, usual.json())
    assert fast.status_code in (200, 400)
    for name in SAME_HEADERS:
        assert fast.headers.get(name) == usual.headers.get(name), name
    assert "Accept" in fast.headers["Vary"]
    # In the order of a set for DRF's @api_view, so of its process's hash seed.
    assert set(fast.headers["Allow"].split(", ")) == set(usual.headers["Allow"].split(", "))
    assert "default-src 'self'" in fast.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "body, headers, status",
    [
        ({"row": ROW, "explain": True}, {}, 200),  # a field the short road does not take
        ({"row": ROW, "colour": "red"}, {}, 400),
        ({"row": ROW, "rows": [ROW]}, {}, 400),
        ('{"row": {"tenure": NaN}}', {}, 400),
        ("[1, 2", {}, 400),
        ({"row": ROW}, {"Authorization": "Token pmt_not-a-token"}, 401),
        ({"row": ROW}, {"Authorization": "Basic b3duZXI6b3duZXItcGFzcy0xMjM="}, 200),
        ({"row": ROW}, {"Accept": "application/json; indent=2"}, 200),
    ],
)
def test_anything_else_goes_on_to_the_view(world, short_road, body, headers, status):  # noqa: F811
    headers = {"Authorization": world["headers"]["Authorization"], **headers}
    response = post(Client(), world, body, **headers)
    assert response.status_code == status, response.content[:300]
    assert short_road == []
    if status != 200:
        assert response.json()["error"]


def test_another_users_candidate_is_not_found(world, outsider):  # noqa: F811
    _, key = token_create(owner=outsider, name="theirs")
    response = post(Client(), world, {"row": ROW}, Authorization=f"Token {key}")
    assert response.status_code == 404
    assert response.json()["error"].startswith("Not found")


def test_an_address_not_allowed_is_refused(world):  # noqa: F811
    response = post(
        Client(HTTP_HOST="evil.example"),
        world,
        {"row": ROW},
        Authorization=world["headers"]["Authorization"],
    )
    assert response.status_code == 400


def test_the_short_roads_answers_count_against_the_users_rate(
    world,  # noqa: F811
    owner,
    short_road,
):
    server = redis.Redis.from_url(settings.REDIS_URL)
    for key in server.scan_iter(f"promise:throttle_user_{owner.pk}:*"):
        server.delete(key)  # counted by an earlier test of a user with the same id
    rates = {"user": "3/minute", "anon": None}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        client = Client()
        auth = world["headers"]["Authorization"]
        answers = [post(client, world, {"row": ROW}, Authorization=auth) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert len(short_road) == 3
    assert answers[-1].json()["error"].startswith("Too many requests")
