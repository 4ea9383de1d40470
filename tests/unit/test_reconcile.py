"""The reconciler's rules: which rows have no live task, what continues them, and when.

The passes send real messages to a Redis of the module's own; "alive" is what waits in
its queues (no worker listens there, so none holds a task).
"""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from analysis import liveness, reconcile, workflow
from analysis.models import BatchPrediction, CandidateResult, Dataset, Run
from tests.broker import PrivateRedis, celery_app_on

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL = settings.PROMISE_RECONCILE_SECONDS


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A Redis of this module's own: no worker listens there to take what a pass sends."""
    server = PrivateRedis(tmp_path_factory.mktemp("reconcile"))
    server.start()
    with celery_app_on(server.url):
        yield server
    server.stop()


QUEUES = [queue.name for queue in settings.CELERY_TASK_QUEUES]


@pytest.fixture(autouse=True)
def empty_broker(private_redis, settings, monkeypatch):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = private_redis.url
    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()
    # No worker here: what is alive is what waits in the broker's queues.
    monkeypatch.setattr(reconcile, "live_tasks", queued)


def lose_queued_tasks() -> None:
    """What a broker restarted without its data does to the queues (only to them here)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(*QUEUES)


def queued() -> set[tuple[str, int]]:
    return set(liveness._keys(liveness._queued_messages(QUEUES)))


@pytest.fixture
def dataset(profiled_dataset):
    Dataset.objects.filter(pk=profiled_dataset.pk).update(status=Dataset.Status.UPLOADED)
    return profiled_dataset


def make_run(owner, dataset, status, **fields) -> Run:
    return Run.objects.create(owner=owner, dataset=dataset, target="b", status=status, **fields)


def candidate(run, name, position, **fields) -> CandidateResult:
    return CandidateResult.objects.create(
        run=run, name=name, label=name, position=position, **fields
    )


def test_it_finds_a_dataset_without_a_task_and_leaves_one_whose_task_waits(dataset):
    assert reconcile.find_orphans(set()) == [reconcile.Orphan("dataset", dataset.pk, "profile")]
    assert reconcile.find_orphans({(workflow.PROFILE_DATASET, dataset.pk)}) == []


def test_it_continues_each_run_with_the_step_its_state_calls_for(owner, profiled_dataset):
    queued_run = make_run(owner, profiled_dataset, Run.Status.QUEUED)
    ranking = make_run(owner, profiled_dataset, Run.Status.RANKING)
    unfinished = make_run(owner, profiled_dataset, Run.Status.TRAINING)
    candidate(unfinished, "linear", 0, status="succeeded")
    candidate(unfinished, "tree", 1, status="pending")
    lapsed = timezone.now() - timedelta(seconds=1)
    candidate(unfinished, "forest", 2, status="running", lease_expires_at=lapsed)
    extending = make_run(
        owner, profiled_dataset, Run.Status.TRAINING, second_round={"seconds": {"a": 5, "b": 8}}
    )
    candidate(extending, "a", 0, status="succeeded", second_round="running")
    candidate(extending, "b", 1, status="succeeded", second_round="queued")
    candidate(extending, "c", 2, status="failed")
    ended = make_run(owner, profiled_dataset, Run.Status.TRAINING)
    candidate(ended, "linear", 0, status="succeeded")
    candidate(ended, "tree", 1, status="failed")
    make_run(owner, profiled_dataset, Run.Status.SUCCEEDED)

    steps = {o.pk: (o.step, o.names) for o in reconcile.find_orphans(set()) if o.kind == "run"}

    assert steps == {
        queued_run.pk: ("pipeline", ()),
        ranking.pk: ("rank", ()),
        unfinished.pk: ("training", ("tree", "forest")),
        extending.pk: ("second_round", ("b", "a")),  # the longest search first
        ended.pk: ("plan", ()),
    }


def test_a_run_with_a_live_task_or_a_live_lease_is_not_an_orphan(owner, profiled_dataset):
    waiting = make_run(owner, profiled_dataset, Run.Status.TRAINING)
    candidate(waiting, "linear", 0, status="pending")
    leased = make_run(owner, profiled_dataset, Run.Status.TRAINING)
    alive_until = timezone.now() + timedelta(seconds=20)
    candidate(leased, "linear", 0, status="running", lease_expires_at=alive_until)

    orphans = reconcile.find_orphans({(workflow.TRAIN_CANDIDATE, waiting.pk)})

    assert [o for o in orphans if o.kind == "run"] == []


def test_it_finds_confirmations_whose_task_is_lost(owner, profiled_dataset):
    run = make_run(owner, profiled_dataset, Run.Status.SUCCEEDED)
    first = candidate(run, "linear", 0, status="succeeded", confirm_status="running")
    second = candidate(run, "tree", 1, status="succeeded", confirm_status="queued")
    candidate(run, "forest", 2, status="succeeded", confirm_status="succeeded")

    assert reconcile.find_orphans(set()) == [
        reconcile.Orphan("confirm", run.pk, "confirm", (first.pk, second.pk))
    ]
    assert reconcile.find_orphans({(workflow.CONFIRM_CANDIDATES, run.pk)}) == []


def file_of_records(run, status) -> BatchPrediction:
    scorer = CandidateResult.objects.get_or_create(run=run, name="linear", label="linear")[0]
    return BatchPrediction.objects.create(
        owner=run.owner, candidate=scorer, name="in.csv", status=status
    )


def test_it_finds_files_of_records_whose_scoring_is_lost(owner, profiled_dataset):
    run = make_run(owner, profiled_dataset, Run.Status.SUCCEEDED)
    waiting = file_of_records(run, BatchPrediction.Status.QUEUED)
    scoring = file_of_records(run, BatchPrediction.Status.RUNNING)
    file_of_records(run, BatchPrediction.Status.SUCCEEDED)

    alive = {(workflow.SCORE_PREDICTION_FILE, waiting.pk)}

    assert reconcile.find_orphans(alive) == [reconcile.Orphan("batch", scoring.pk, "score")]


def test_a_file_of_records_given_up_fails_with_a_sentence(owner, profiled_dataset, settings):
    settings.PROMISE_RECONCILE_ATTEMPTS = 0
    batch = file_of_records(
        make_run(owner, profiled_dataset, Run.Status.SUCCEEDED), BatchPrediction.Status.RUNNING
    )
    reconcile.reconcile(now=1000.0)

    assert reconcile.reconcile(now=1000.0 + INTERVAL)["failed"] == [f"batch:{batch.pk}"]

    batch.refresh_from_db()
    assert (batch.status, batch.done) == (BatchPrediction.Status.FAILED, True)
    assert batch.error.startswith("Scoring this file was lost 0 times")


def test_send_counts_are_kept_for_rows_still_going_and_dropped_for_rows_that_ended(
    owner, profiled_dataset
):
    run = make_run(owner, profiled_dataset, Run.Status.SUCCEEDED)
    going, ended = (file_of_records(run, BatchPrediction.Status.QUEUED) for _ in range(2))
    reconcile.reconcile(now=1000.0)
    reconcile.reconcile(now=1000.0 + INTERVAL)  # both sent once
    BatchPrediction.objects.filter(pk=ended.pk).update(status=BatchPrediction.Status.SUCCEEDED)

    reconcile.reconcile(now=1000.0 + 2 * INTERVAL)

    counts = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True).hgetall(reconcile.SENT)
    assert counts == {f"batch:{going.pk}": "1"}


def test_it_sends_an_orphan_again_only_when_found_on_two_passes_in_a_row(dataset):
    first = reconcile.reconcile(now=1000.0)
    assert (first["orphans"], first["sent"]) == ([f"dataset:{dataset.pk}"], [])
    assert queued() == set()

    second = reconcile.reconcile(now=1000.0 + INTERVAL)

    assert second["sent"] == [f"dataset:{dataset.pk}"]
    assert queued() == {(workflow.PROFILE_DATASET, dataset.pk)}
    # Its task now waits in the queue: the next pass leaves it alone.
    third = reconcile.reconcile(now=1000.0 + 2 * INTERVAL)
    assert (third["orphans"], third["sent"]) == ([], [])


def test_a_row_that_is_back_before_the_second_pass_is_not_sent(dataset):
    reconcile.reconcile(now=1000.0)
    workflow.send_profile(dataset.pk)  # e.g. the send of the request that made it, late

    again = reconcile.reconcile(now=1000.0 + INTERVAL)

    assert (again["orphans"], again["sent"]) == ([], [])
    assert reconcile.state()["suspects"] == []


def test_it_fails_a_row_with_a_sentence_after_the_last_attempt(dataset, settings):
    settings.PROMISE_RECONCILE_ATTEMPTS = 2
    now = 1000.0
    reconcile.reconcile(now=now)
    for _ in range(settings.PROMISE_RECONCILE_ATTEMPTS):
        now += INTERVAL
        assert reconcile.reconcile(now=now)["sent"] == [f"dataset:{dataset.pk}"]
        lose_queued_tasks()
        now += INTERVAL
        assert reconcile.reconcile(now=now)["sent"] == []

    now += INTERVAL
    last = reconcile.reconcile(now=now)

    assert last["failed"] == [f"dataset:{dataset.pk}"]
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.FAILED
    assert dataset.error.startswith("Reading this file was lost 2 times")
    assert "Read the file again" in dataset.error


def test_a_run_given_up_fails_with_a_sentence(owner, profiled_dataset, settings):
    settings.PROMISE_RECONCILE_ATTEMPTS = 0
    run = make_run(owner, profiled_dataset, Run.Status.QUEUED)
    pending = candidate(run, "linear", 0, status="pending")
    reconcile.reconcile(now=1000.0)

    assert reconcile.reconcile(now=1000.0 + INTERVAL)["failed"] == [f"run:{run.pk}"]

    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error.startswith("This run's work was lost 0 times")
    assert CandidateResult.objects.get(pk=pending.pk).status == CandidateResult.Status.CANCELLED


def test_a_second_pass_at_once_waits_for_the_lock(dataset):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set(reconcile.LOCK, "another pass", ex=60)

    assert reconcile.reconcile() == {"skipped": "another pass is running"}
