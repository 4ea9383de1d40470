"""The audit log: who uploaded, ran, cancelled, exported, predicted in bulk, deleted and
signed in (or failed to), when, and from which address.

Services call `record(...)` at the point where the thing happens; the address and the
acting user come from the request being served (`AuditContextMiddleware` keeps it for the
duration of the request), so a staff member cancelling someone's run in the admin is
recorded as that staff member. Outside a request (a worker, a command) the entry names
the user the service was given and no address. Entries are kept for
PROMISE_AUDIT_RETENTION_DAYS; `prune_audit(now)` removes older ones.
"""

from __future__ import annotations

import contextvars
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
        SIGN_OUT = "sign_out", "Signed out"
        UPLOAD = "upload", "Uploaded"
        RUN = "run", "Started a run"
        CANCEL = "cancel", "Cancelled"
        EXPORT = "export", "Exported"
        PREDICT_BULK = "predict_bulk", "Predicted in bulk"
        DELETE = "delete", "Deleted"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept when the user is deleted, and for failed sign-ins of unknown names.
    username = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        app_label = "analysis"
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        what = f" {self.object_type} {self.object_id}" if self.object_type else ""
        return f"{self.username or 'someone'}: {self.get_action_display()}{what}"


class AuditContextMiddleware:
    """Keeps the request being served where `record` finds its user and address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def client_address(request) -> str | None:
    """The client's address as django-axes sees it (its proxy settings apply)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def record(
    action: str,
    *,
    user=None,
    target: models.Model | None = None,
    detail: str = "",
    request=None,
    username: str = "",
) -> AuditEntry:
    """Write one entry. The acting user is the signed-in user of the request being
    served, else `user`; `target` is the object acted on. A `request` given (the auth
    signals') is read for its address only: its user is being decided."""
    actor = user
    if request is None:
        request = _request.get()
        signed_in = getattr(request, "user", None)
        if signed_in is not None and signed_in.is_authenticated:
            actor = signed_in
    # The API's request wraps Django's; the address is read from Django's.
    request = getattr(request, "_request", request)
    return AuditEntry.objects.create(
        user=actor if actor is not None and actor.pk else None,
        username=(actor.get_username() if actor is not None else "") or username[:150],
        action=action,
        object_type=type(target)._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:300] if target is not None else "",
        detail=detail[:500],
        ip_address=client_address(request) if request is not None else None,
    )


def prune_audit(now: datetime, *, dry_run: bool = False) -> int:
    """Remove the entries older than the retention setting; how many (would) go."""
    cutoff = now - timedelta(days=settings.PROMISE_AUDIT_RETENTION_DAYS)
    old = AuditEntry.objects.filter(created_at__lt=cutoff)
    return old.count() if dry_run else old.delete()[0]


# Django's auth signals, connected in AnalysisConfig.ready.
def on_signed_in(sender, request, user, **_):
    record(AuditEntry.Action.SIGN_IN, user=user, request=request)


def on_signed_out(sender, request, user, **_):
    if user is not None:
        record(AuditEntry.Action.SIGN_OUT, user=user, request=request)


def on_sign_in_failed(sender, credentials, request=None, **_):
    name = str(credentials.get("username") or credentials.get("email") or "")
    record(AuditEntry.Action.SIGN_IN_FAILED, request=request, username=name)
