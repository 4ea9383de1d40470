"""Housekeeping with a real worker: each command with --dry-run and without, each
periodic task run by the worker, and Celery beat sending them on its schedule."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis import services, tasks
from analysis.automl.candidates import CANDIDATES
from analysis.models import CandidateResult, Dataset, Run
from tests.worker import wait_for
from tests.worker_process import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

WEEKS_AGO = time.time() - 30 * 86400


def command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def abandoned_upload(owner: str, *, mtime: float = WEEKS_AGO) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "uploads" / owner / os.urandom(16).hex()
    folder.mkdir(parents=True)
    (folder / "data").write_bytes(b"a,b\n1,2\n")
    os.utime(folder / "data", (mtime, mtime))
    return folder


def test_it_lists_the_live_worker_on_the_dashboard(celery_worker, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("op", is_staff=True))
    response = client.get(reverse("ops_panel", args=["workers"]), HTTP_HX_REQUEST="true")
    mine = [w for w in response.context["workers"] if w["hostname"].startswith("test-")]
    assert mine and mine[0]["answering"] and mine[0]["concurrency"] == 2
    assert mine[0]["last_seen_seconds"] == 0
    assert mine[0]["hostname"] in response.content.decode()


def test_expire_uploads_removes_every_users_abandoned_uploads(celery_worker):
    old = [abandoned_upload("101"), abandoned_upload("102")]
    fresh = abandoned_upload("101", mtime=time.time())
    report = command("expire_uploads", "--dry-run")
    assert all(f"Would remove unfinished upload {f.name}" in report for f in old)
    assert fresh.name not in report and all(f.exists() for f in old)
    report = command("expire_uploads")
    assert "2 unfinished uploads removed" in report
    assert not any(f.exists() for f in old) and fresh.exists()
    # The periodic task, run by the worker.
    again = abandoned_upload("103")
    result = tasks.expire_uploads.delay().get(timeout=60)
    assert result["count"] == 1 and not again.exists() and fresh.exists()


def test_expire_datasets_deletes_those_past_retention_with_their_files(
    celery_worker, owner, settings
):
    settings.PROMISE_DATASET_RETENTION_DAYS = 30
    stale = Dataset(owner=owner, name="stale.csv", status=Dataset.Status.READY, size_bytes=8)
    stale.file.save("stale.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    stale.save()
    Dataset.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=40))
    used = Dataset.objects.create(owner=owner, name="used.csv", status=Dataset.Status.READY)
    Dataset.objects.filter(pk=used.pk).update(created_at=timezone.now() - timedelta(days=40))
    Run.objects.create(owner=owner, dataset=used, target="b", status=Run.Status.SUCCEEDED)
    path = Path(stale.file.path)
    report = command("expire_datasets", "--dry-run")
    assert f"Would remove dataset {stale.pk} “stale.csv”" in report
    assert f"dataset {used.pk}" not in report and path.exists()
    report = command("expire_datasets")
    assert "1 datasets removed" in report
    assert not Dataset.objects.filter(pk=stale.pk).exists() and not path.exists()
    assert Dataset.objects.filter(pk=used.pk).exists()
    settings.PROMISE_DATASET_RETENTION_DAYS = 0
    assert "0 datasets would be removed" in command("expire_datasets", "--dry-run")


def test_remove_leftovers_removes_files_no_row_points_to(celery_worker):
    orphan = Path(settings.MEDIA_ROOT) / "datasets" / "gone" / f"{os.urandom(4).hex()}.csv"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x" * 100)
    os.utime(orphan, (WEEKS_AGO, WEEKS_AGO))
    assert str(orphan) in command("cleanup", "--dry-run") and orphan.exists()
    result = tasks.remove_leftovers.delay().get(timeout=60)
    assert any(str(orphan) in line for line in result["lines"]) and not orphan.exists()


def test_reap_runs_continues_work_whose_task_was_lost(celery_worker, owner, churn_csv, settings):
    settings.PROMISE_RECONCILE_SECONDS = 1
    # A dataset whose profiling task was never sent (the broker was down, say).
    dataset = Dataset(owner=owner, name="churn.csv", status=Dataset.Status.UPLOADED)
    dataset.file.save("churn.csv", ContentFile(churn_csv.read_bytes()), save=False)
    dataset.save()
    report = command("reap_runs", "--dry-run")
    assert f"Would continue dataset:{dataset.pk} (profile)" in report
    assert Dataset.objects.get(pk=dataset.pk).status == Dataset.Status.UPLOADED

    def profiled():
        if Dataset.objects.get(pk=dataset.pk).status == Dataset.Status.UPLOADED:
            reports.append(command("reap_runs"))
        return Dataset.objects.get(pk=dataset.pk).status == Dataset.Status.READY

    reports: list[str] = []
    wait_for(profiled, timeout=90, what="the reaped dataset to be profiled by the worker")
    assert any(f"Sent again dataset:{dataset.pk}" in r for r in reports), reports

    # A run whose task vanished with its worker: queued, and no message anywhere.
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="churned", time_budget=10, sample_size=200
    )
    CandidateResult.objects.bulk_create(
        CandidateResult(run=run, name=c.name, label=c.label, position=i)
        for i, c in enumerate(CANDIDATES)
    )
    assert f"Would continue run:{run.pk} (pipeline)" in command("reap_runs", "--dry-run")

    def picked_up():
        if Run.objects.get(pk=run.pk).status == Run.Status.QUEUED:
            reports.append(command("reap_runs"))
        return Run.objects.get(pk=run.pk).status != Run.Status.QUEUED

    wait_for(picked_up, timeout=90, what="the reaped run to be taken by the worker")
    assert any(f"Sent again run:{run.pk}" in r for r in reports), reports
    services.run_cancel(run=Run.objects.get(pk=run.pk))


def test_beat_sends_housekeeping_on_its_schedule(celery_worker, tmp_path):
    folder = abandoned_upload("104")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PROMISE_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "PROMISE_HOUSEKEEPING_SECONDS": "1",
    }
    log_path = tmp_path / "beat.log"
    with log_path.open("wb") as log:
        beat = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "promise", "beat", "--loglevel", "INFO",
                "--schedule", str(tmp_path / "schedule"),
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for(lambda: not folder.exists(), timeout=60, what="beat's expire_uploads")
        finally:
            beat.terminate()
            beat.wait(timeout=20)
    sent = log_path.read_text()
    assert "Sending due task expire_uploads (analysis.tasks.expire_uploads)" in sent, sent
