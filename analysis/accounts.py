"""Accounts: sign-up that does not tell which user names exist, and what a client locked
out by django-axes (too many failed log-ins) is told, on the pages and in the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from .forms import SignupForm


def account_create(*, username: str, password: str) -> bool:
    """Creates the account unless the name is taken (in any letter case); says which.

    A taken name costs the same password hashing as a new account, so the time of the
    answer does not tell either.
    """
    users = get_user_model()
    if users.objects.filter(username__iexact=username).exists():
        make_password(password)
        return False
    try:
        with transaction.atomic():
            users.objects.create_user(username=username, password=password)
    except IntegrityError:  # the same name, signed up a moment earlier
        return False
    return True


def signup(request: HttpRequest) -> HttpResponse:
    """A free name and a taken one get the same answer: the log-in page and one sentence.

    Saying "that name is taken", or logging the new user in at once (which a taken name
    cannot do), would let anyone list the accounts by signing up. Only the password, which
    the taken name's owner knows, tells the two apart, and the log-in form it goes through
    is throttled.
    """
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        account_create(username=username, password=form.cleaned_data["password1"])
        messages.success(
            request,
            f"Now log in as “{username}” with the password you chose. If that fails, "
            "the name was already taken: sign up again with another one.",
        )
        return redirect("login")
    return render(request, "registration/signup.html", {"form": form})


def _lockout_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_sentence() -> str:
    return (
        "Too many failed log-ins for this user name from your address: logging in is paused "
        f"for {_lockout_minutes()} minutes. Try again then, or ask an administrator to "
        "unlock it."
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """What django-axes answers a locked-out log-in (AXES_LOCKOUT_CALLABLE): the sentence,
    as a page for the log-in forms and as JSON for the API, with status 429."""
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"error": lockout_sentence()}, status=429)
    else:
        context = {"sentence": lockout_sentence()}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


class LoginLockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self):
        super().__init__(lockout_sentence())
        # DRF's exception handler turns `wait` into the Retry-After header.
        self.wait = settings.AXES_COOLOFF_TIME.total_seconds()


class LockoutAwareBasicAuthentication(BasicAuthentication):
    """HTTP basic auth that says so when django-axes refused the log-in.

    Axes counts basic-auth failures (DRF calls authenticate() with the request), but it
    flags the lockout on DRF's request, which its middleware never sees: without this the
    client would only read "Invalid username/password." and keep guessing.
    """

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut() from None
            raise
