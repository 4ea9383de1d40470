"""Deleting a user: every dataset with its runs, models and exports, their unfinished
uploads, then the account; files go once the rows are gone."""

from __future__ import annotations

import shutil

from django.db import transaction

from .. import audit
from ..models import Dataset
from ..uploads import uploads_root
from .datasets import dataset_delete


@transaction.atomic
def user_delete(*, user) -> None:
    for dataset in Dataset.objects.filter(owner=user):
        dataset_delete(dataset=dataset)
    folder = uploads_root(user.pk)
    audit.record(audit.AuditEntry.Action.DELETE, user=user, target=user)
    user.delete()
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
