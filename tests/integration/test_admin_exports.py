"""Exports through the admin and the audit log, on a candidate trained by the AutoML core:
a download is recorded; staff rebuild an export (a new zip, the old file gone)."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from analysis.audit import AuditEntry
from analysis.models import CandidateResult, Export
from tests.conftest import churn_frame
from tests.integration.trained import trained_linear_candidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained_candidate(owner) -> CandidateResult:
    return trained_linear_candidate(owner, churn_frame(rows=200).to_csv(index=False).encode())


def test_a_download_is_recorded_and_staff_rebuild_the_export(
    owner, owner_client, trained_candidate, django_user_model, django_capture_on_commit_callbacks
):
    response = owner_client.get(
        reverse("api_export_zip", args=[trained_candidate.pk]), REMOTE_ADDR="198.51.100.4"
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.user, entry.ip_address) == (owner, "198.51.100.4")
    old = Export.objects.get()
    old_file = Path(old.file.path)

    admin = django_user_model.objects.create_superuser("admin", password="admin-pass-123")
    staff = Client()
    staff.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:analysis_export_changelist"),
            {"action": "rebuild", "_selected_action": [old.pk]},
        )

    new = Export.objects.get()
    assert new.pk != old.pk and new.contents_sha256 == old.contents_sha256
    assert Path(new.file.path).exists() and not old_file.exists()
    replaced = AuditEntry.objects.get(action=AuditEntry.Action.DELETE)
    assert (replaced.user, replaced.object_id) == (admin, str(old.pk))
