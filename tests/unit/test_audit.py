"""The audit log, written by the real pages, API and log-in: who did what, when, from
which address; filtered in the admin; pruned after its retention."""

import base64
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis.audit import AuditEntry, prune_audit
from analysis.models import Run
from analysis.storage import run_dir
from tests.unit.test_serving import make_candidate, save_model

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
ADDRESS = "203.0.113.7"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _only(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def test_signing_in_is_recorded_with_the_address(client, owner):
    client.post(
        reverse("login"), {"username": "owner", "password": "owner-pass-123"}, REMOTE_ADDR=ADDRESS
    )
    entry = _only(Action.SIGN_IN)
    assert (entry.user, entry.ip_address) == (owner, ADDRESS)


def test_a_failed_sign_in_names_who_was_tried(client, owner):
    client.post(reverse("login"), {"username": "owner", "password": "wrong"}, REMOTE_ADDR=ADDRESS)
    entry = _only(Action.SIGN_IN_FAILED)
    assert (entry.user, entry.username, entry.ip_address) == (None, "owner", ADDRESS)


def test_a_failed_basic_auth_of_the_api_is_recorded(client, owner):
    wrong = "Basic " + base64.b64encode(b"owner:wrong").decode()
    client.get(reverse("api_datasets"), HTTP_AUTHORIZATION=wrong, REMOTE_ADDR=ADDRESS)
    assert _only(Action.SIGN_IN_FAILED).username == "owner"


def test_signing_out_is_recorded(owner_client, owner):
    owner_client.post(reverse("logout"))
    assert _only(Action.SIGN_OUT).user == owner


def test_an_upload_through_the_page_is_recorded(owner_client, owner, media):
    owner_client.post(
        reverse("dataset_upload"),
        {"file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n")},
        REMOTE_ADDR=ADDRESS,
    )
    entry = _only(Action.UPLOAD)
    assert (entry.user, entry.object_type, entry.object_repr, entry.ip_address) == (
        owner, "dataset", "t.csv", ADDRESS,
    )  # fmt: skip


def test_an_upload_through_the_api_with_basic_auth_names_its_user(client, owner, media):
    basic = "Basic " + base64.b64encode(b"owner:owner-pass-123").decode()
    client.post(
        reverse("api_datasets"),
        {"file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n")},
        HTTP_AUTHORIZATION=basic,
        REMOTE_ADDR=ADDRESS,
    )
    entry = _only(Action.UPLOAD)
    assert (entry.user, entry.ip_address) == (owner, ADDRESS)


def test_a_refused_upload_records_nothing(owner_client, media, settings):
    settings.PROMISE_MAX_UPLOAD_BYTES = 3
    owner_client.post(reverse("dataset_upload"), {"file": SimpleUploadedFile("t.csv", b"a,b\n")})
    assert not AuditEntry.objects.filter(action=Action.UPLOAD).exists()


def test_starting_and_cancelling_a_run_are_recorded(owner_client, owner, profiled_dataset):
    started = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b"},
        content_type="application/json",
        REMOTE_ADDR=ADDRESS,
    )
    run_id = started.json()["id"]
    owner_client.post(reverse("run_cancel", args=[run_id]), REMOTE_ADDR=ADDRESS)
    for action in (Action.RUN, Action.CANCEL):
        entry = _only(action)
        assert (entry.user, entry.object_id, entry.ip_address) == (owner, str(run_id), ADDRESS)


def test_staff_cancelling_in_the_admin_are_named_not_the_owner(
    owner, profiled_dataset, django_user_model
):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="training")
    admin = django_user_model.objects.create_superuser("admin", password="admin-pass-123")
    staff = Client()
    staff.force_login(admin)
    staff.post(
        reverse("admin:analysis_run_changelist"),
        {"action": "cancel", "_selected_action": [run.pk]},
        REMOTE_ADDR=ADDRESS,
    )
    assert _only(Action.CANCEL).user == admin


def test_deleting_a_dataset_and_a_run_are_recorded(
    owner_client, owner, media, profiled_dataset, django_capture_on_commit_callbacks
):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="failed")
    folder = run_dir(run)
    folder.mkdir(parents=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete(reverse("api_run_detail", args=[run.pk]))
    assert response.status_code == 204 and not folder.exists()
    owner_client.post(reverse("dataset_delete", args=[profiled_dataset.pk]))
    deleted = AuditEntry.objects.filter(action=Action.DELETE).order_by("pk")
    assert [(e.object_type, e.user) for e in deleted] == [("run", owner), ("dataset", owner)]


def test_another_users_run_cannot_be_deleted(outsider_client, owner, profiled_dataset):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="failed")
    assert outsider_client.delete(reverse("api_run_detail", args=[run.pk])).status_code == 404
    assert Run.objects.filter(pk=run.pk).exists()
    assert not AuditEntry.objects.filter(action=Action.DELETE).exists()


def test_scoring_a_file_is_recorded(owner_client, owner, profiled_dataset, tmp_path, media):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")
    _, holdout = save_model(tmp_path / "tree", "decision_tree", "multiclass")
    candidate = make_candidate(run, tmp_path / "tree")
    records = io.BytesIO(holdout.head(5).to_csv(index=False).encode())
    records.name = "new.csv"
    response = owner_client.post(
        reverse("prediction_file_upload", args=[candidate.pk]),
        {"file": records},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code in (200, 201, 302)
    entry = _only(Action.PREDICT_BULK)
    assert (entry.user, entry.object_type, entry.ip_address) == (owner, "batchprediction", ADDRESS)


def test_the_admin_filters_the_log_by_action(owner, django_user_model):
    AuditEntry.objects.create(action=Action.SIGN_IN_FAILED, username="mallory")
    AuditEntry.objects.create(action=Action.UPLOAD, username="owner", object_repr="kept.csv")
    admin = django_user_model.objects.create_superuser("admin", password="admin-pass-123")
    staff = Client()
    staff.force_login(admin)
    url = reverse("admin:analysis_auditentry_changelist")
    page = staff.get(url, {"action__exact": "sign_in_failed"}).content.decode()
    assert "mallory" in page and "kept.csv" not in page
    assert "mallory" not in staff.get(url, {"q": "kept.csv"}).content.decode()


def test_entries_past_the_retention_are_pruned(settings):
    settings.PROMISE_AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(action=Action.UPLOAD, username="a")
    recent = AuditEntry.objects.create(action=Action.UPLOAD, username="b")
    now = timezone.now()
    AuditEntry.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=31))
    AuditEntry.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=29))

    out = StringIO()
    call_command("prune_audit", "--dry-run", stdout=out)
    assert "1 audit entries older than 30 days would be removed" in out.getvalue()
    assert AuditEntry.objects.count() == 2
    assert prune_audit(now) == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_run_pages_delete_button_removes_the_run_and_its_folder(
    owner_client, owner, media, profiled_dataset, django_capture_on_commit_callbacks
):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="failed")
    assert (
        reverse("run_delete", args=[run.pk])
        in owner_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    )
    run_dir(run).mkdir(parents=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("run_delete", args=[run.pk]))
    assert response["Location"] == reverse("dataset_detail", args=[profiled_dataset.pk])
    assert not Run.objects.exists() and not run_dir(run).exists()
    assert _only(Action.DELETE).object_id == str(run.pk)


def test_another_users_run_page_delete_is_404(outsider_client, owner, profiled_dataset):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="b", status="failed")
    assert outsider_client.post(reverse("run_delete", args=[run.pk])).status_code == 404
    assert Run.objects.filter(pk=run.pk).exists()
