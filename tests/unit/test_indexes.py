"""The queries behind the lists, the dashboard and housekeeping are served by indexes.

Each test runs the function the page or the chore really calls, captures the SQL it
sends, and asks PostgreSQL for its plan with sequential scans made expensive (tables of
a few thousand rows still fit in a page or two, where a sequential scan is cheapest; the
question is whether an index serves the query once they are large). The plan must name
the index of analysis/models.py meant for it.

Housekeeping's other chore, unfinished uploads, reads folders (analysis/uploads.py),
not rows: there is no query to serve.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis import selectors
from analysis.models import CandidateResult, Dataset, Run
from analysis.ops import housekeeping
from analysis.ops.runs import runs_by_state, stuck_runs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="plans are PostgreSQL's (DATABASE_URL=postgres://...); SQLite serves one machine",
    ),
]


def plans(call, table: str) -> list[str]:
    """The plans of the queries on `table` that `call()` sends, without sequential scans."""
    with CaptureQueriesContext(connection) as captured:
        call()
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            if f'FROM "{table}"' not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            found.append("\n".join(row[0] for row in cursor.fetchall()))
    assert found, f"no query on {table}"
    return found


@pytest.fixture
def world(owner, outsider):
    """Two users with hundreds of datasets and thousands of finished runs, and a few runs
    of the owner's still active: the shape of a real table, where an index pays."""
    for user, datasets, runs in ((owner, 300, 1_500), (outsider, 2_000, 4_000)):
        made = Dataset.objects.bulk_create(
            Dataset(owner=user, name=f"d{k}.csv", status="ready") for k in range(datasets)
        )
        Run.objects.bulk_create(
            Run(owner=user, dataset=made[k % 100], target="y", status="succeeded")
            for k in range(runs)
        )
    dataset = Dataset.objects.filter(owner=owner).first()
    for status in ("queued", "training", "failed"):
        run = Run.objects.create(owner=owner, dataset=dataset, target="y", status=status)
        CandidateResult.objects.create(run=run, name="linear", label="Linear")
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "analysis_dataset", "analysis_run", "analysis_candidateresult"')
    return owner


def page_of(client, url: str):
    def call():
        assert client.get(url).status_code == 200

    return call


def test_the_api_list_of_a_users_datasets_uses_their_index(world, owner_client):
    found = plans(page_of(owner_client, reverse("api_datasets")), "analysis_dataset")
    page = next(plan for plan in found if "Limit" in plan)
    assert "dataset_owner_newest" in page
    assert "Sort" not in page  # the index gives the order


def test_the_api_list_of_a_users_runs_uses_their_index(world, owner_client):
    found = plans(page_of(owner_client, reverse("api_runs")), "analysis_run")
    page = next(plan for plan in found if "Limit" in plan)
    assert "run_owner_newest" in page
    assert "Sort" not in page


def test_the_home_pages_latest_runs_use_their_index(world):
    found = plans(lambda: selectors.runs_with_best(world), "analysis_run")
    assert "run_owner_newest" in found[0]
    assert "Sort" not in found[0]


def test_the_dashboards_runs_by_state_use_the_status_index(world):
    (plan,) = plans(runs_by_state, "analysis_run")
    assert "run_status_created" in plan


def test_the_dashboards_stuck_runs_use_the_status_index(world):
    found = plans(stuck_runs, "analysis_run")
    assert any("run_status_created" in plan for plan in found), found


def test_housekeepings_old_datasets_use_the_age_index(world, settings):
    settings.PROMISE_DATASET_RETENTION_DAYS = 30
    (plan,) = plans(housekeeping.expired_datasets, "analysis_dataset")
    assert "dataset_created" in plan
