"""Schemathesis runs the API's own OpenAPI schema against the app, in process (WSGI), as a
user with a dataset, a finished run, trained candidates and a scored file: whatever the
schema allows a client to send, and much it does not, no answer is a server error.

Path ids are swapped for the user's own objects half the time (the other half are ids of
nothing, or of another user's objects), so the endpoints answer from real objects too.
Examples are bounded so that the whole run stays under a minute.
"""

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from tests.unit.api_world import world  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

EXAMPLES = 12


def _owned_ids(case, objects: dict) -> None:
    """Half the ids become the user's own object of that kind; a third of the rest, for
    runs, another user's run (which must be a 404)."""
    parameters = case.path_parameters or {}
    number = parameters.get("id")
    if not isinstance(number, int):
        return
    kind = case.path.split("/")[2]
    if number % 2 == 0 and kind in objects["ids"]:
        parameters["id"] = objects["ids"][kind]
    elif number % 3 == 0 and kind == "runs":
        parameters["id"] = objects["foreign"]


@pytest.fixture
def connection_kept():
    """The test's database connection stays open across requests (as Django's test
    client arranges): the WSGI handler would close it when each request finishes."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_request_the_schema_allows_gets_a_server_error(world, connection_kept):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    # The docs page and the schema itself take no data.
    schema = schema.exclude(path_regex=r"^/api/(schema|docs)/$")
    failures, tried, answered = [], [], Counter()
    # Deleting the dataset takes the run and its candidates with it: deletions go last.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda o: o.method == "delete"
    )
    for operation in operations:
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def no_server_error(case):
            _owned_ids(case, world)
            response = case.call(headers=world["headers"])
            answered[case.operation.label, response.status_code // 100 * 100] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {response.status_code}: "
                    f"{response.text[:300]}"
                )

        no_server_error()
    assert len(tried) > 30 and "POST /api/candidates/{id}/predict/" in tried
    succeeded = {label for (label, status), _ in answered.items() if status == 200}
    # The owner's objects were reached: their reads answered.
    assert {
        "GET /api/datasets/{id}/",
        "GET /api/runs/{id}/leaderboard/",
        "GET /api/candidates/{id}/",
        "GET /api/prediction-files/{id}/",
        "GET /api/candidates/{id}/export/files/",
    } <= succeeded, succeeded
    assert not failures, "\n".join(failures[:20])
