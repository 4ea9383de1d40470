"""Two Celery worker processes with their own hostnames share one run, and one of them dies.

Each test starts a redis-server of its own (tests/broker.py: the session's worker, on the
shared Redis, must not take these tasks) and two workers on it, `a@<host>` and
`b@<host>`, against the test database, as two hosts of a deployment would run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from analysis.models import CandidateResult, Dataset, Run
from analysis.services import dataset_create_from_path, run_start
from promise.celery import app
from tests.broker import RECONCILE_SECONDS, PrivateRedis, celery_app_on
from tests.worker import wait_for
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

TRAINING = {"analysis.tasks.train_candidate", "analysis.tasks.extend_candidate"}
EVERY_QUEUE = ["ingest", "train", "default"]


def tasks_done(host: WorkerProcess) -> set[str]:
    """The names of the tasks `host` has received since it started."""
    stats = app.control.inspect(destination=[host.name], timeout=2).stats() or {}
    return set(stats[host.name]["total"])


@pytest.fixture
def hosts(django_db_setup, tmp_path):
    """Start workers with `start(letter, queues, beat=...)`; all stopped at the end."""
    from django.db import connection

    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PROMISE_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "REDIS_URL": redis_server.url,
        "PROMISE_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
    }
    started: list[WorkerProcess] = []

    def start(letter: str, queues: list[str], *, beat: bool = False) -> WorkerProcess:
        """Worker `letter` with one process, as on a host of its own."""
        started.append(
            WorkerProcess(
                f"{letter}@%h",
                env=env,
                log_path=tmp_path / f"{letter}.log",
                queues=queues,
                concurrency=1,
                beat_schedule=tmp_path / f"{letter}-beat" if beat else None,
            )
        )
        return started[-1].start()

    with celery_app_on(redis_server.url):
        try:
            yield start
        finally:
            for host in started:
                host.stop()
            redis_server.stop()


def ready_dataset(owner, folder: Path, rows: int) -> Dataset:
    from tests.conftest import churn_frame

    path = folder / "churn.csv"
    churn_frame(rows=rows).to_csv(path, index=False)
    dataset = dataset_create_from_path(owner=owner, path=path)
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=90, what="profile"
    )
    return Dataset.objects.get(pk=dataset.pk)


def run_ended(run: Run) -> Run:
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=300, what="the run"
    )
    return Run.objects.get(pk=run.pk)


def test_it_trains_one_runs_candidates_on_both_workers_and_a_train_worker_only_trains(
    hosts, owner, tmp_path
):
    trainer = hosts("a", ["train"])
    everything = hosts("b", EVERY_QUEUE)
    dataset = ready_dataset(owner, tmp_path, rows=5_000)

    run = run_ended(run_start(owner=owner, dataset=dataset, target="churned", time_budget=30))

    assert run.status == "succeeded", run.error
    hostnames = CandidateResult.objects.filter(run=run).values_list("worker_hostname", flat=True)
    assert set(hostnames) == {trainer.name, everything.name}
    # The -Q train worker received the searches and nothing else; reading the file,
    # sampling and ranking went to the other.
    assert tasks_done(trainer) and tasks_done(trainer) <= TRAINING
    assert {
        "analysis.tasks.profile_dataset",
        "analysis.tasks.prepare_sample",
        "analysis.tasks.plan_second_round",
    } <= tasks_done(everything)


def test_a_candidate_of_a_worker_killed_mid_run_is_trained_again_by_the_other(
    hosts, owner, tmp_path
):
    doomed = hosts("a", EVERY_QUEUE)
    # b runs beat too: its reconciler sends again the work of a worker that vanished.
    survivor = hosts("b", EVERY_QUEUE, beat=True)
    dataset = ready_dataset(owner, tmp_path, rows=20_000)
    run = run_start(owner=owner, dataset=dataset, target="churned", time_budget=60)

    on_doomed = wait_for(
        lambda: CandidateResult.objects.filter(
            run=run, status="running", worker_hostname=doomed.name
        ).first(),
        timeout=120,
        what="worker a to train a candidate",
    )
    doomed.kill()
    killed_at = timezone.now()

    run = run_ended(run)
    assert run.status == "succeeded", run.error
    again = CandidateResult.objects.get(pk=on_doomed.pk)
    # Claimed again by the survivor once the dead worker's lease lapsed: trained, or (its
    # share of the budget spent) failed with a sentence for the user.
    assert (again.worker_hostname, again.attempts) == (survivor.name, 2)
    assert again.status == "succeeded" or (again.status == "failed" and again.error)
    assert again.started_at > killed_at
    statuses = set(CandidateResult.objects.filter(run=run).values_list("status", flat=True))
    assert statuses <= {"succeeded", "failed"}
