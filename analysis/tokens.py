"""Personal API tokens: a user creates several, names them, and revokes each on its own.

Only a SHA-256 hash of a token is stored, so a copy of the database cannot be used to
call the API; the token itself is shown once, when it is made. A plain hash is enough
(unlike for passwords): a token is 256 random bits, which no one can guess from its hash.
The first characters are kept in clear so that the page can tell the tokens apart.

Each web process remembers the owner of a token it has checked for TOKEN_CACHE_SECONDS
(PROMISE_TOKEN_CACHE_SECONDS), so that an API call costs no database query: looking the
token up was most of the cost of a small API answer. So a token revoked, or its owner
deactivated, is refused at once by the process that revoked it and by every other
process within TOKEN_CACHE_SECONDS. Only tokens that were valid are remembered, at most
TOKEN_CACHE_SIZE of them, so a stream of made-up tokens cannot grow the memory.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

PREFIX = "pmt_"
MAX_TOKENS = 20
MAX_NAME = 100
# A token used again within this long does not write its last use again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_CACHE_SIZE = 10_000


class TokenError(Exception):
    """A token that cannot be made, with the sentence that says why."""


class ApiToken(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=MAX_NAME)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, shown on the page ("pmt_Ab3x…").
    shown = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "analysis"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.shown}…)"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(*, owner, name: str) -> tuple[ApiToken, str]:
    """A new token for `owner` named `name`; returns it with the key, which is not kept."""
    name = " ".join(name.split())
    if not name:
        raise TokenError("Give the token a name, such as the script or machine that uses it.")
    if len(name) > MAX_NAME:
        raise TokenError(f"A token's name has at most {MAX_NAME} characters.")
    # Counted under a lock on the user's row, so two requests at once cannot pass the limit.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    if ApiToken.objects.filter(owner=owner).count() >= MAX_TOKENS:
        raise TokenError(
            f"You have {MAX_TOKENS} tokens already, the most one account may have: "
            "revoke one you no longer use first."
        )
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner, name=name, key_hash=_hash(key), shown=key[: len(PREFIX) + 6]
    )
    return token, key


def token_revoke(*, owner, token_id: int) -> ApiToken | None:
    """Delete one of `owner`'s tokens; None when there is no such token of theirs."""
    token = ApiToken.objects.filter(owner=owner, pk=token_id).first()
    if token is not None:
        token.delete()
        _forget(token.key_hash)
    return token


_checked: dict[str, tuple[float, object]] = {}  # key hash → (valid until, owner)
_checked_lock = threading.Lock()


def token_owner(key: str):
    """The active user whose token `key` is, or None; notes when the token was used.

    Remembered for TOKEN_CACHE_SECONDS by this process (see the module's docstring)."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    key_hash = _hash(key)
    now = time.monotonic()
    remembered = _checked.get(key_hash)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    owner = _owner_in_database(key_hash)
    seconds = settings.TOKEN_CACHE_SECONDS
    with _checked_lock:
        if owner is None or seconds <= 0:
            _checked.pop(key_hash, None)
        else:
            if len(_checked) >= TOKEN_CACHE_SIZE:
                _checked.clear()
            _checked[key_hash] = (now + seconds, owner)
    return owner


def _forget(key_hash: str) -> None:
    with _checked_lock:
        _checked.pop(key_hash, None)


def _owner_in_database(key_hash: str):
    token = ApiToken.objects.select_related("owner").filter(key_hash=key_hash).first()
    if token is None or not token.owner.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # A conditional UPDATE: at most one write a minute, however busy the token is.
        ApiToken.objects.filter(pk=token.pk).filter(
            models.Q(last_used_at__isnull=True)
            | models.Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.owner


def tokens_of(owner) -> models.QuerySet[ApiToken]:
    return ApiToken.objects.filter(owner=owner)
