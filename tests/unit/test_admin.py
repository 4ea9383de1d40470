"""The admin, as staff use it: every model's list with its computed columns, and each
action against real rows and files (cancel, retry, read again, delete with every file)."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from analysis.failures import FailureTrace
from analysis.models import (
    ApiToken,
    AuditEntry,
    BatchPrediction,
    CandidateResult,
    Dataset,
    Export,
    Run,
    UserLimits,
)
from analysis.storage import dataset_path, run_dir
from analysis.uploads import upload_begin

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def staff(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser("admin", password="admin-pass-123")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def stored(owner, media) -> dict:
    """A dataset with a finished run, its folder, an export and a scored file."""
    dataset = Dataset(owner=owner, name="mine.csv", status=Dataset.Status.READY, size_bytes=8)
    dataset.file.save("mine.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    dataset.profile = {"rows": 1, "columns": [{"name": "a"}, {"name": "b"}], "preview": []}
    dataset.save()
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="b", status=Run.Status.SUCCEEDED, metric="r2"
    )
    candidate = CandidateResult.objects.create(
        run=run, name="linear", label="Linear", status="succeeded", rank=1, metrics={"r2": 0.5}
    )
    export = Export(owner=owner, candidate=candidate)
    export.file.save("promise-export.zip", ContentFile(b"zip"), save=True)
    batch = BatchPrediction(owner=owner, candidate=candidate, name="in.csv")
    batch.input_file.save("in.csv", ContentFile(b"a\n1\n"), save=False)
    batch.result_file.save("out.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    batch.save()
    model = run_dir(run) / "candidates" / "linear" / "model.joblib"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"model")
    return {
        "dataset": dataset,
        "run": run,
        "candidate": candidate,
        "export": export,
        "batch": batch,
        "files": [
            dataset_path(dataset),
            run_dir(run),
            Path(export.file.path),
            Path(batch.input_file.path),
            Path(batch.result_file.path),
        ],
    }


def _changelist(model) -> str:
    return reverse(f"admin:analysis_{model._meta.model_name}_changelist")


def _action(client, model, action: str, objects) -> None:
    response = client.post(
        _changelist(model), {"action": action, "_selected_action": [o.pk for o in objects]}
    )
    assert response.status_code == 302, response.content[:500]


def test_it_lists_every_model_with_its_computed_columns(staff, stored, owner):
    ApiToken.objects.create(owner=owner, name="laptop", key_hash="x" * 64, shown="pmt_abc")
    UserLimits.objects.create(user=owner, max_concurrent_runs=2)
    FailureTrace.objects.create(
        kind="run", run=stored["run"], traceback="Traceback …\nValueError: bad input"
    )
    pages = {
        Dataset: "8 bytes",
        Run: "r2 0.5",
        CandidateResult: "Linear",
        Export: "3 bytes",
        BatchPrediction: "in.csv",
        ApiToken: "laptop",
        UserLimits: "owner",
        AuditEntry: "Signed in",  # the staff member, by force_login
        FailureTrace: "ValueError: bad input",
    }
    for model, shown in pages.items():
        response = staff.get(_changelist(model))
        assert response.status_code == 200, model
        assert shown in response.content.decode(), model
    users = staff.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "8 bytes" in users  # the owner's storage


def test_the_lists_filter_and_search(staff, stored):
    found = staff.get(_changelist(Run), {"status__exact": "succeeded", "q": "mine.csv"})
    assert f">{stored['run'].pk}<" in found.content.decode()
    none = staff.get(_changelist(Run), {"status__exact": "failed"})
    assert "0 runs" in none.content.decode()


def test_it_cancels_a_running_run(staff, stored):
    run = stored["run"]
    Run.objects.filter(pk=run.pk).update(status=Run.Status.TRAINING)
    _action(staff, Run, "cancel", [run])
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED


def test_it_retries_a_failed_run_as_a_new_one(staff, stored):
    run = stored["run"]
    Run.objects.filter(pk=run.pk).update(status=Run.Status.FAILED)
    _action(staff, Run, "retry", [run])
    again = Run.objects.exclude(pk=run.pk).get()
    assert (again.status, again.target, again.dataset_id) == ("queued", "b", run.dataset_id)


def test_a_refused_retry_is_a_message_not_an_error(staff, stored):
    response = staff.post(
        _changelist(Run),
        {"action": "retry", "_selected_action": [stored["run"].pk]},
        follow=True,
    )
    assert "Only a failed or cancelled run can be retried." in response.content.decode()
    assert Run.objects.count() == 1


def test_it_reads_a_dataset_again(staff, stored):
    _action(staff, Dataset, "read_again", [stored["dataset"]])
    assert Dataset.objects.get(pk=stored["dataset"].pk).status == Dataset.Status.UPLOADED


def test_deleting_a_dataset_removes_every_file(staff, stored, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            _changelist(Dataset),
            {
                "action": "delete_selected",
                "_selected_action": [stored["dataset"].pk],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Dataset.objects.exists() and not BatchPrediction.objects.exists()
    assert [path for path in stored["files"] if path.exists()] == []


def test_deleting_a_run_removes_its_folder_export_and_scored_files(
    staff, stored, django_capture_on_commit_callbacks
):
    url = reverse("admin:analysis_run_delete", args=[stored["run"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not Run.objects.exists() and not Export.objects.exists()
    assert [path for path in stored["files"] if path.exists()] == [stored["files"][0]]


def test_deleting_an_export_removes_its_zip(staff, stored, django_capture_on_commit_callbacks):
    url = reverse("admin:analysis_export_delete", args=[stored["export"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not Export.objects.exists() and not stored["files"][2].exists()


def test_deleting_a_scoring_job_removes_both_files(
    staff, stored, django_capture_on_commit_callbacks
):
    url = reverse("admin:analysis_batchprediction_delete", args=[stored["batch"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not stored["files"][3].exists() and not stored["files"][4].exists()


def test_deleting_a_user_removes_their_files_and_unfinished_uploads(
    staff, stored, owner, django_capture_on_commit_callbacks
):
    upload = upload_begin(owner_id=owner.pk, name="big.csv", size=100)
    url = reverse("admin:auth_user_delete", args=[owner.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not Dataset.objects.exists()
    assert [path for path in stored["files"] if path.exists()] == []
    assert not upload.folder.exists()


def test_candidates_and_the_audit_log_cannot_be_edited_or_deleted(staff, stored):
    candidate = stored["candidate"]
    entry = AuditEntry.objects.create(action=AuditEntry.Action.UPLOAD, username="owner")
    for name, pk in (("candidateresult", candidate.pk), ("auditentry", entry.pk)):
        assert staff.get(reverse(f"admin:analysis_{name}_change", args=[pk])).status_code == 200
        assert (
            staff.post(
                reverse(f"admin:analysis_{name}_delete", args=[pk]), {"post": "yes"}
            ).status_code
            == 403
        )
    assert CandidateResult.objects.filter(pk=candidate.pk).exists()


def test_a_users_limits_are_set_in_the_admin(staff, owner):
    response = staff.post(
        reverse("admin:analysis_userlimits_add"),
        {"user": owner.pk, "max_upload_bytes": "1000", "max_concurrent_runs": "1"},
    )
    assert response.status_code == 302
    limits = UserLimits.objects.get(user=owner)
    assert (limits.max_upload_bytes, limits.max_concurrent_runs) == (1000, 1)
    assert limits.storage_quota_bytes is None  # blank: the settings' default


def test_non_staff_get_nothing_from_the_admin(owner_client, stored):
    response = owner_client.get(_changelist(Run))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_see_and_discard_unfinished_uploads(staff, owner, media):
    upload = upload_begin(owner_id=owner.pk, name="big.csv", size=2048)
    users = staff.get(reverse("admin:auth_user_changelist")).content.decode()
    assert reverse("admin:auth_user_uploads") in users  # the owner's count links to the page
    page = staff.get(reverse("admin:auth_user_uploads")).content.decode()
    assert "big.csv" in page and "2 KB" in page and "owner" in page
    response = staff.post(
        reverse("admin:auth_user_uploads"), {"owner_id": owner.pk, "upload_id": upload.id}
    )
    assert response.status_code == 302 and not upload.folder.exists()
    assert AuditEntry.objects.filter(action="delete", detail__contains="big.csv").exists()


def test_a_made_up_upload_is_a_message_not_an_error(staff, media):
    response = staff.post(
        reverse("admin:auth_user_uploads"), {"owner_id": "1", "upload_id": "../../etc"}, follow=True
    )
    assert "finished or gone already" in response.content.decode()


def test_non_staff_get_nothing_from_the_uploads_page(owner_client, owner, media):
    upload_begin(owner_id=owner.pk, name="big.csv", size=2048)
    response = owner_client.get(reverse("admin:auth_user_uploads"))
    assert response.status_code == 302 and "big.csv" not in response.content.decode()
