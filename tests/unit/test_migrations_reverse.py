"""Every migration of analysis reverses: migrated to zero and forward again, on the
database the suite runs on (PostgreSQL with DATABASE_URL=postgres://..., SQLite else).

A migration whose backwards step is missing (a RunPython without reverse_code) or
fails on the engine stops `migrate analysis zero` here rather than in production.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db(transaction=True)


def analysis_tables() -> set[str]:
    return {name for name in connection.introspection.table_names() if name.startswith("analysis_")}


def applied() -> set[str]:
    loader = MigrationLoader(connection)
    return {name for app, name in loader.applied_migrations if app == "analysis"}


def test_every_analysis_migration_reverses_and_applies_again():
    tables = analysis_tables()
    every = {name for app, name in MigrationLoader(connection).graph.nodes if app == "analysis"}
    assert applied() == every and len(every) >= 15

    call_command("migrate", "analysis", "zero", verbosity=0)
    assert applied() == set()
    assert analysis_tables() == set()

    call_command("migrate", verbosity=0)
    assert applied() == every
    assert analysis_tables() == tables
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())  # nothing left


def test_the_scale_out_indexes_exist_after_migrating_forward():
    with connection.cursor() as cursor:
        indexes = {
            name
            for table in ("analysis_dataset", "analysis_run")
            for name in connection.introspection.get_constraints(cursor, table)
        }
    assert {
        "dataset_owner_newest",
        "dataset_created",
        "run_owner_newest",
        "run_status_created",
    } <= indexes
