"""Unfinished chunked uploads in the admin: every user's, with their size, what arrived
and when the last piece did; staff discard one (its folder goes). They are folders on
disk (analysis/uploads.py), not rows, so this is a page of the user admin rather than a
model's list: /admin/auth/user/uploads/."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from . import audit, uploads
from .limits import amount


@dataclass(frozen=True)
class OpenUpload:
    owner_id: int
    username: str
    id: str
    name: str
    size: str
    received: str
    last_piece: datetime


def open_uploads(owner_id: int | None = None) -> list[OpenUpload]:
    """Every unfinished upload (or one user's), the most recently active first."""
    root = uploads.uploads_dir()
    found = []
    for owner in root.iterdir() if root.is_dir() else ():
        if not owner.name.isdecimal() or (owner_id is not None and int(owner.name) != owner_id):
            continue
        for folder in owner.iterdir():
            try:
                meta = json.loads((folder / "upload.json").read_text())
                data = (folder / "data").stat()
            except (OSError, ValueError):
                continue
            found.append(
                OpenUpload(
                    owner_id=int(owner.name),
                    username="",
                    id=folder.name,
                    name=str(meta.get("name", "")),
                    size=amount(int(meta.get("size", 0))),
                    received=amount(data.st_size),
                    last_piece=datetime.fromtimestamp(data.st_mtime, tz=UTC),
                )
            )
    users = get_user_model().objects.filter(pk__in={u.owner_id for u in found})
    names = dict(users.values_list("pk", "username"))
    found = [
        replace(u, username=names.get(u.owner_id, f"deleted user {u.owner_id}")) for u in found
    ]
    return sorted(found, key=lambda u: u.last_piece, reverse=True)


def uploads_page(request: HttpRequest, admin_site) -> HttpResponse:
    """GET: the list. POST owner_id and upload_id: discard that upload."""
    if request.method == "POST":
        try:
            owner_id = int(request.POST.get("owner_id", ""))
            upload = uploads.upload_get(
                owner_id=owner_id, upload_id=request.POST.get("upload_id", "")
            )
        except (ValueError, uploads.UploadError):
            messages.warning(request, "That upload is finished or gone already.")
        else:
            uploads.upload_discard(upload=upload)
            audit.record(
                audit.AuditEntry.Action.DELETE,
                detail=f"unfinished upload {upload.name} of user {owner_id}",
            )
            messages.success(request, f"Discarded the unfinished upload {upload.name}.")
        return redirect("admin:auth_user_uploads")
    context = {
        **admin_site.each_context(request),
        "title": "Unfinished uploads",
        "uploads": open_uploads(),
    }
    return TemplateResponse(request, "admin/analysis/uploads.html", context)
