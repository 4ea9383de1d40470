"""The operations dashboard's panels against real rows, the real Redis and the real
broker's queues (no worker here: tests/integration/test_housekeeping.py has one)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis import services, serving_metrics
from analysis.audit import AuditEntry
from analysis.failures import FailureTrace, record_traceback
from analysis.models import BatchPrediction, CandidateResult, Dataset, Run
from analysis.ops import system
from analysis.ops.runs import STOPPED_BY_STAFF
from analysis.ops.views import PANELS
from promise.celery import app
from tests.broker import celery_app_on

pytestmark = pytest.mark.django_db

# Nothing listens there. Celery is pointed at it with tests/broker.py's celery_app_on, never
# through Django's settings: Celery reads those once, and would keep the dead address.
CLOSED = "redis://127.0.0.1:1/0"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("operator", password="pw", is_staff=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def panel(client, name):
    return client.get(reverse("ops_panel", args=[name]), HTTP_HX_REQUEST="true")


def make_run(dataset, status=Run.Status.SUCCEEDED, **fields):
    return Run.objects.create(
        owner=dataset.owner, dataset=dataset, target="b", status=status, **fields
    )


# --- who gets what ----------------------------------------------------------------------

ADDRESSES = [reverse("ops_dashboard")] + [reverse("ops_panel", args=[name]) for name in PANELS]


@pytest.mark.parametrize("address", ADDRESSES)
def test_it_sends_anonymous_visitors_to_log_in(client, address):
    response = client.get(address)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("address", ADDRESSES)
def test_it_shows_nothing_to_users_who_are_not_staff(owner_client, address):
    assert owner_client.get(address, HTTP_HX_REQUEST="true").status_code == 404


@pytest.mark.parametrize("action", ["ops_run_requeue", "ops_run_fail"])
def test_it_lets_no_one_but_staff_act_on_a_run(client, owner_client, profiled_dataset, action):
    run = make_run(profiled_dataset, Run.Status.QUEUED)
    address = reverse(action, args=[run.pk])
    assert client.post(address).status_code == 302
    assert owner_client.post(address).status_code == 404
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED and not run.error


def test_it_shows_staff_the_page_with_every_panel(staff_client):
    page = staff_client.get(reverse("ops_dashboard")).content.decode()
    for name in PANELS:
        assert f'hx-get="{reverse("ops_panel", args=[name])}"' in page
    assert 'hx-trigger="load, every' in page
    assert reverse("ops_dashboard") in staff_client.get(reverse("home")).content.decode()


def test_it_keeps_the_nav_link_from_users_who_are_not_staff(owner_client):
    assert reverse("ops_dashboard") not in owner_client.get(reverse("home")).content.decode()


def test_it_answers_404_for_an_unknown_panel(staff_client):
    assert panel(staff_client, "secrets").status_code == 404


# --- the panels ------------------------------------------------------------------------


def test_it_counts_runs_by_state_and_per_day(staff_client, profiled_dataset):
    for status in (Run.Status.SUCCEEDED, Run.Status.SUCCEEDED, Run.Status.FAILED):
        make_run(profiled_dataset, status)
    old = make_run(profiled_dataset, Run.Status.CANCELLED)
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    response = panel(staff_client, "runs")
    states = {s["state"]: s["count"] for s in response.context["states"]}
    assert states["Succeeded"] == 2 and states["Failed"] == 1 and states["Cancelled"] == 1
    traces = {t["name"]: t["y"] for t in response.context["figure"].spec["data"]}
    assert traces["Succeeded"][-1] == 2 and traces["Failed"][-1] == 1
    assert traces["Cancelled"][-4] == 1 and sum(traces["Cancelled"]) == 1


def test_it_reads_each_queue_depth_from_the_broker(staff_client):
    app.control.purge()
    before = {q["queue"]: q["waiting"] for q in system.queue_depths()}
    assert set(before) == {"ingest", "train", "default"}
    app.send_task("analysis.tasks.reconcile", queue="train")
    app.send_task("analysis.tasks.reconcile", queue="train", priority=5)
    app.send_task("analysis.tasks.reconcile", queue="default")
    try:
        response = panel(staff_client, "queues")
        depths = {q["queue"]: q["waiting"] for q in response.context["queues"]}
        assert depths["train"] == before["train"] + 2
        assert depths["default"] == before["default"] + 1
        assert depths["ingest"] == before["ingest"]
    finally:
        app.control.purge()


def test_it_says_the_broker_is_down_instead_of_failing(staff_client, settings):
    settings.REDIS_URL = CLOSED
    serving_metrics._clients.clear()
    try:
        with celery_app_on(CLOSED):
            for name in ("queues", "workers", "serving"):
                response = panel(staff_client, name)
                assert response.status_code == 200
                assert "did not answer" in response.content.decode()
        assert panel(staff_client, "health").context["health"]["redis"]["ok"] is False
    finally:
        serving_metrics._clients.clear()


def test_it_lists_recent_failures_with_the_sentence_and_the_traceback(
    staff_client, profiled_dataset
):
    run = make_run(profiled_dataset, Run.Status.FAILED, error="The target has one value only.")
    Run.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    try:
        raise ValueError("the sample had no rows")
    except ValueError:
        record_traceback(run_id=run.pk)
    assert FailureTrace.objects.filter(run=run).exists()
    body = panel(staff_client, "failures").content.decode()
    assert "The target has one value only." in body
    assert "ValueError: the sample had no rows" in body and "Traceback" in body


def test_it_lists_a_failed_candidate_and_dataset(staff_client, profiled_dataset, owner):
    run = make_run(profiled_dataset)
    CandidateResult.objects.create(
        run=run, name="forest", label="Random forest", status="failed", error="Out of memory."
    )
    broken = Dataset.objects.create(
        owner=owner, name="broken.csv", status=Dataset.Status.FAILED, error="No header row."
    )
    failures = panel(staff_client, "failures").context["failures"]
    assert {f.sentence for f in failures} >= {"Out of memory.", "No header row."}
    assert any(f.dataset_id == broken.pk for f in failures)


def test_it_lists_stuck_runs_and_not_moving_ones(staff_client, profiled_dataset, settings):
    settings.PROMISE_STUCK_RUN_SECONDS = 600
    stuck = make_run(profiled_dataset, Run.Status.QUEUED)
    Run.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    moving = make_run(profiled_dataset, Run.Status.TRAINING, started_at=timezone.now())
    Run.objects.filter(pk=moving.pk).update(created_at=timezone.now() - timedelta(hours=1))
    found = [s.run.pk for s in panel(staff_client, "stuck").context["stuck"]]
    assert found == [stuck.pk]


def test_it_fails_a_stuck_run_with_a_sentence_for_its_owner(staff_client, profiled_dataset):
    run = make_run(profiled_dataset, Run.Status.TRAINING, started_at=timezone.now())
    CandidateResult.objects.create(run=run, name="tree", label="Tree", status="running")
    response = staff_client.post(reverse("ops_run_fail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f"Run {run.pk} was failed" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and run.error.startswith(STOPPED_BY_STAFF[:30])
    assert run.candidates.get().status == CandidateResult.Status.CANCELLED
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CANCEL, object_id=str(run.pk))
    assert entry.username == "operator" and "stuck" in entry.detail


def test_it_requeues_a_stuck_run_through_the_broker(staff_client, profiled_dataset):
    app.control.purge()
    run = make_run(profiled_dataset, Run.Status.QUEUED)
    waiting = sum(q["waiting"] for q in system.queue_depths())
    response = staff_client.post(reverse("ops_run_requeue", args=[run.pk]))
    try:
        assert response.status_code == 302 and response["Location"] == reverse("ops_dashboard")
        assert sum(q["waiting"] for q in system.queue_depths()) == waiting + 1
    finally:
        app.control.purge()


def test_it_does_nothing_to_a_run_that_already_ended(staff_client, profiled_dataset):
    run = make_run(profiled_dataset, Run.Status.SUCCEEDED)
    response = staff_client.post(reverse("ops_run_fail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert "had already ended" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED and not run.error


def test_it_adds_up_storage_per_user(staff_client, owner, outsider, settings):
    dataset = Dataset(owner=owner, name="big.csv", status=Dataset.Status.READY, size_bytes=5000)
    dataset.file.save("big.csv", ContentFile(b"a\n1\n"), save=False)
    dataset.save()
    run = make_run(dataset)
    tree = CandidateResult.objects.create(run=run, name="tree", label="Tree", model_bytes=700)
    scored = BatchPrediction(owner=owner, candidate=tree, name="rows.csv")
    scored.input_file.save("rows.csv", ContentFile(b"y" * 200), save=False)
    scored.result_file.save("rows-scored.csv", ContentFile(b"z" * 250), save=False)
    scored.save()
    settings.PROMISE_STORAGE_QUOTA_BYTES = 20_000
    upload = Path(settings.MEDIA_ROOT) / "uploads" / str(owner.pk) / ("a" * 32)
    upload.mkdir(parents=True, exist_ok=True)
    (upload / "data").write_bytes(b"x" * 300)
    try:
        storage = panel(staff_client, "storage").context["storage"]
    finally:
        (upload / "data").unlink()
    mine = next(u for u in storage["users"] if u["user"] == "owner")
    assert (mine["files"], mine["models"], mine["uploads"]) == (5000, 700, 300)
    assert mine["scored"] == 450 and mine["quota_used"] == 25
    assert mine["total"] == 6450 and mine["datasets"] == 1
    assert "outsider" not in {u["user"] for u in storage["users"]}
    assert storage["total"] >= 6450 and storage["disk"]["free"] > 0


def test_it_shows_prediction_volume_and_latency(staff_client, profiled_dataset):
    serving_metrics.reset()
    candidate = CandidateResult.objects.create(
        run=make_run(profiled_dataset), name="linear", label="Linear"
    )
    for ms in (10, 20, 30):
        serving_metrics.record(candidate.pk, ms / 1000, rows=4, error=False, cache_hit=False)
    try:
        response = panel(staff_client, "serving")
    finally:
        serving_metrics.reset()
    assert response.context["serving"]["requests"] == 3
    assert response.context["serving"]["rows"] == 12
    model = response.context["serving"]["models"][0]
    assert model["name"] == f"Linear (run {candidate.run_id})"
    assert model["latency_ms"]["p50"] == 20.0


def test_it_shows_the_health_of_the_database_and_redis(staff_client):
    health = panel(staff_client, "health").context["health"]
    assert health["database"]["ok"] and health["redis"]["ok"]
    # No worker runs in the unit tests: the panel says so.
    assert health["worker"]["ok"] is False


def test_it_keeps_the_traceback_of_a_run_that_failed_on_our_side(staff_client, profiled_dataset):
    # The dataset's file went missing under it: an error of ours, not the user's.
    profiled_dataset.file.delete(save=True)
    run = make_run(profiled_dataset, Run.Status.QUEUED)
    services.run_prepare(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and "on our side" in run.error
    trace = FailureTrace.objects.get(run=run)
    assert trace.traceback.startswith("Traceback") and "Error" in trace.traceback
    assert (
        "Traceback" not in staff_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    )
    body = panel(staff_client, "failures").content.decode()
    assert run.error in body.replace("&#x27;", "'")
    assert trace.traceback.splitlines()[-1][:40] in body.replace("&#x27;", "'").replace(
        "&quot;", '"'
    )


def test_it_says_so_when_a_requeue_cannot_reach_the_broker(staff_client, profiled_dataset):
    run = make_run(profiled_dataset, Run.Status.QUEUED)
    with celery_app_on(CLOSED):
        response = staff_client.post(
            reverse("ops_run_requeue", args=[run.pk]), HTTP_HX_REQUEST="true"
        )
        workers = panel(staff_client, "workers")
    assert response.status_code == 200
    assert "task queue is not answering right now" in response.content.decode()
    assert "message error" in response.content.decode()
    assert "The broker did not answer" in workers.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED
