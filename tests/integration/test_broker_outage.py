"""A real Redis restarted without its data during a run, while uploading and with a file of
records waiting to be scored: nothing stays stuck. The pages and the API answer 503 with a
sentence while it is down, and the reconciler on beat (every 3 s here) sends the lost work
again once it is back."""

import io
import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from analysis.models import BatchPrediction, CandidateResult, Dataset, Run
from tests.broker import RECONCILE_SECONDS, PrivateRedis, Worker, celery_app_on
from tests.conftest import churn_frame
from tests.unit.test_serving import make_candidate, save_model
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FINAL_RUN = (Run.Status.SUCCEEDED, Run.Status.FAILED, Run.Status.CANCELLED)
OUTAGE_SECONDS = 8
# As reported: Redis killed mid-run and back 20 s later.
RUN_OUTAGE_SECONDS = 20
LEASE_SECONDS = settings.PROMISE_CANDIDATE_LEASE_SECONDS


@pytest.fixture(scope="module")
def broker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A private Redis with a worker and beat on it, and this process sending to it."""
    folder = tmp_path_factory.mktemp("outage")
    server = PrivateRedis(folder)
    server.start()
    server.worker = Worker(server.url, str(connection.settings_dict["NAME"]), folder / "worker.log")
    try:
        with celery_app_on(server.url):
            server.worker.start()
            yield server
    finally:
        server.worker.stop()
        server.stop()


@pytest.fixture
def on_broker(broker, settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = broker.url
    return broker


@pytest.fixture
def churn_upload(tmp_path):
    path = tmp_path / "churn.csv"
    churn_frame(rows=2000).to_csv(path, index=False)
    return path


def upload(client, path, *, api: bool = True):
    with path.open("rb") as handle:
        if api:
            return client.post(reverse("api_datasets"), {"file": handle})
        return client.post(reverse("dataset_upload"), {"file": handle})


def run_ended(run: Run, *, timeout: float, what: str) -> float:
    """Wait for the run to end; when it did (time.monotonic())."""
    wait_for(lambda: Run.objects.get(pk=run.pk).status in FINAL_RUN, timeout=timeout, what=what)
    return time.monotonic()


def start_run(client, dataset: Dataset, *, time_budget: int):
    return client.post(
        reverse("api_run_start", args=[dataset.pk]),
        {"target": "churned", "time_budget": time_budget},
        content_type="application/json",
    )


def started_run(client, path, *, time_budget: int = 20) -> Run:
    """A run on a freshly read upload, started through the API."""
    response = start_run(client, ready(client, path), time_budget=time_budget)
    assert response.status_code == 201, response.content
    return Run.objects.get(pk=response.json()["id"])


def ready(client, path) -> Dataset:
    response = upload(client, path)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    wait_for(lambda: Dataset.objects.get(pk=pk).status == "ready", timeout=30, what="profile")
    return Dataset.objects.get(pk=pk)


def test_a_run_ends_ranked_after_redis_restarts_without_its_data_mid_run(
    on_broker, owner_client, churn_upload
):
    run = started_run(owner_client, churn_upload)
    wait_for(
        lambda: CandidateResult.objects.filter(run=run, status="succeeded").exists(),
        timeout=60,
        what="a first trained candidate",
    )
    assert CandidateResult.objects.filter(run=run, status__in=["pending", "running"]).exists()

    on_broker.kill()  # the queued candidates, the chord's count and the acks are gone
    killed = time.monotonic()
    time.sleep(RUN_OUTAGE_SECONDS)
    on_broker.start()
    back = time.monotonic()

    ended = run_ended(run, timeout=90, what="the run to end after the restart")
    run.refresh_from_db()
    print(
        f"run: Redis down {back - killed:.1f} s; the run ended {ended - back:.1f} s after "
        f"Redis was back ({ended - killed:.1f} s after it was killed)"
    )
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.recommended
    candidates = CandidateResult.objects.filter(run=run)
    assert not candidates.filter(status__in=["pending", "running"]).exists()
    assert candidates.filter(rank=1).count() == 1


def test_work_saved_while_redis_is_down_answers_503_and_starts_once_it_is_back(
    on_broker, owner_client, churn_upload
):
    dataset = ready(owner_client, churn_upload)
    data = churn_upload.read_bytes()
    half = len(data) // 2
    begun = owner_client.post(
        reverse("api_upload_begin"),
        {"name": "churn.csv", "size": len(data)},
        content_type="application/json",
    ).json()

    def piece(offset: int, chunk: bytes):
        url = f"{begun['url']}?offset={offset}"
        return owner_client.put(url, chunk, content_type="application/octet-stream")

    assert piece(0, data[:half]).status_code == 200
    on_broker.kill()  # in the middle of a chunked upload
    killed = time.monotonic()

    assert piece(half, data[half:]).status_code == 200  # the pieces go to disk, not Redis
    started = time.monotonic()
    by_api = owner_client.post(begun["finish_url"])
    upload_seconds = time.monotonic() - started
    by_form = upload(owner_client, churn_upload, api=False)
    run_response = start_run(owner_client, dataset, time_budget=10)

    assert by_api.status_code == 503, by_api.content
    assert "there is no need to upload it again" in by_api.json()["error"]
    assert by_form.status_code == 503
    assert "there is no need to upload it again" in by_form.content.decode()
    assert run_response.status_code == 503, run_response.content
    assert "there is no need to start it again" in run_response.json()["error"]
    assert upload_seconds < 5
    saved = Dataset.objects.exclude(pk=dataset.pk)
    assert list(saved.values_list("status", flat=True)) == ["uploaded", "uploaded"]
    run = Run.objects.get(dataset=dataset)
    assert run.status == Run.Status.QUEUED

    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - killed)))
    on_broker.start()
    back = time.monotonic()
    wait_for(
        lambda: set(saved.values_list("status", flat=True)) == {"ready"},
        timeout=60,
        what="the uploads made during the outage to be read",
    )
    read = time.monotonic()
    ended = run_ended(run, timeout=60, what="the run started during the outage to end")
    print(
        f"outage: upload answered 503 in {upload_seconds:.2f} s; after Redis came back the "
        f"uploads were read in {read - back:.1f} s and the run ended in {ended - back:.1f} s "
        f"(reconciler every {RECONCILE_SECONDS} s)"
    )
    assert Run.objects.get(pk=run.pk).status == Run.Status.SUCCEEDED


def test_a_run_whose_worker_host_vanished_is_continued_by_another_worker(
    on_broker, owner_client, churn_upload
):
    run = started_run(owner_client, churn_upload, time_budget=12)
    wait_for(
        lambda: CandidateResult.objects.filter(run=run, status="running").exists(),
        timeout=60,
        what="a candidate in training",
    )

    on_broker.worker.kill()  # no goodbye: its messages stay unacknowledged for 26 hours
    killed = time.monotonic()
    on_broker.worker.start()  # another host's worker
    replaced = time.monotonic()

    ended = run_ended(run, timeout=90, what="the run to end on the other worker")
    print(
        f"worker gone: a new worker answered {replaced - killed:.1f} s after the kill; the "
        f"run ended {ended - killed:.1f} s after the kill (lease {LEASE_SECONDS:.0f} s, "
        f"reconciler every {RECONCILE_SECONDS} s)"
    )
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert not CandidateResult.objects.filter(run=run, status__in=["pending", "running"]).exists()


def test_a_file_of_records_lost_with_the_queue_is_scored_once_redis_is_back(
    on_broker, owner_client, owner, profiled_dataset, tmp_path
):
    _, holdout = save_model(tmp_path / "tree")
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")
    candidate = make_candidate(run, tmp_path / "tree")
    records = io.BytesIO(holdout.head(25).to_csv(index=False).encode())
    records.name = "records.csv"

    on_broker.worker.stop()  # nobody takes the scoring task: it waits in the queue
    response = owner_client.post(
        reverse("api_predict_file", args=[candidate.pk]), {"file": records}
    )
    assert response.status_code == 202, response.content
    on_broker.kill()  # the queue, and the scoring task in it, are gone
    on_broker.start()
    on_broker.worker.start()

    batch = wait_for(
        lambda: (b := BatchPrediction.objects.get(pk=response.json()["id"])).done and b,
        timeout=10 * RECONCILE_SECONDS,
        what="the file whose task was lost to be scored",
    )
    assert (batch.status, batch.rows_total) == (BatchPrediction.Status.SUCCEEDED, 25), batch.error


def test_healthz_reports_a_run_with_no_live_task(on_broker, client, owner, profiled_dataset):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b")
    # A training run whose candidate nobody trains: what a lost chord leaves.
    Run.objects.filter(pk=run.pk).update(status=Run.Status.TRAINING)
    CandidateResult.objects.create(run=run, name="linear", label="Linear", status="succeeded")

    def reported():
        body = client.get(reverse("healthz")).json()
        return body if run.pk in body["runs"]["stalled"] else None

    body = wait_for(reported, timeout=5 * RECONCILE_SECONDS, what="/healthz to report the run")
    assert body["status"] == "degraded" and body["ok"] is False
    assert body["reconciler"]["ok"] is True
