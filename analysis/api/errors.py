"""One error format for the whole API: {"error": sentence, "fields": {name: [messages]}}.

"error" is always there and reads as a sentence a person can act on; "fields" is there when
the refusal is about named fields of the request, one list of messages per field. Views
that refuse something themselves answer the same shape (see `refusal`), and DRF's own
exceptions (not logged in, not found, throttled, wrong method, bad page …) are rewritten to
it by `exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NOT_LOGGED_IN = (
    "Log in first: send your session cookie, HTTP basic credentials, or a personal API "
    "token as “Authorization: Token <token>” (create one on the API tokens page)."
)
NOT_FOUND = "Not found: there is no such object, or it is not yours."


def first_error(errors) -> str:
    """The first message of a serializer's nested errors, with the field it is about."""
    path = []
    while isinstance(errors, dict | list) and errors:
        if isinstance(errors, dict):
            key = next(iter(errors))
            if key != "non_field_errors":
                path.append(str(key))
            errors = errors[key]
        else:
            errors = errors[0]
    return f"{' › '.join(path)}: {errors}" if path else str(errors)


def _messages(errors, prefix: str = "") -> list[str]:
    """Every message under one field, nested ones prefixed with where they are."""
    if isinstance(errors, dict):
        return [m for key, value in errors.items() for m in _messages(value, f"{prefix}{key}: ")]
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        return [
            m
            for number, value in enumerate(errors)
            if value
            for m in _messages(value, f"{prefix}item {number}: ")
        ]
    if isinstance(errors, list):
        return [f"{prefix}{message}" for message in errors]
    return [f"{prefix}{errors}"]


def field_messages(errors) -> dict[str, list[str]]:
    """A serializer's errors as {field: [messages]}; errors about no field are left out
    (they are in the sentence)."""
    if not isinstance(errors, dict):
        return {}
    return {
        str(name): _messages(value)
        for name, value in errors.items()
        if name not in ("non_field_errors", settings.REST_FRAMEWORK.get("NON_FIELD_ERRORS_KEY"))
    }


def refusal_body(sentence: str, *, fields: dict | None = None, **extra) -> dict:
    """The body of a refusal in the API's one format; `extra` adds keys a client can act
    on (offset)."""
    body = {"error": sentence, **extra}
    if fields:
        body["fields"] = fields
    return body


def refusal(sentence: str, *, status: int = 400, fields: dict | None = None, **extra) -> Response:
    """A refusal in the API's one format (see `refusal_body`)."""
    return Response(refusal_body(sentence, fields=fields, **extra), status=status)


def invalid(errors, *, lead: str = "") -> Response:
    """A 400 for a serializer's errors: the first one as the sentence, every one by field."""
    sentence = first_error(errors)
    return refusal(f"{lead}{sentence}" if lead else sentence, fields=field_messages(errors))


def _sentence(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.NotAuthenticated):
        return NOT_LOGGED_IN
    if isinstance(exc, exceptions.NotFound) and exc.detail == exceptions.NotFound.default_detail:
        return NOT_FOUND
    if isinstance(exc, exceptions.Throttled):
        seconds = max(1, round(exc.wait or 1))
        return (
            "Too many requests: you have used your share of the API for now. "
            f"Try again in {seconds} second{'s' if seconds != 1 else ''}."
        )
    return first_error(exc.detail)


def exception_handler(exc, context) -> Response | None:
    """DRF's handler (status, headers such as Retry-After and WWW-Authenticate), with the
    body rewritten to the API's one format. DRF answers only its own exceptions, Http404
    and PermissionDenied; anything else stays a server error."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):  # "No Dataset matches the given query.": no model names
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    body = {"error": _sentence(exc)}
    if isinstance(exc, exceptions.ValidationError) and (fields := field_messages(exc.detail)):
        body["fields"] = fields
    response.data = body
    return response


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request, exception):
    """handler404: an address under /api/ that names no endpoint answers in the API's format
    (the pages keep Django's 404 page)."""
    if _is_api(request):
        return JsonResponse({"error": "There is no such API endpoint: see /api/docs/."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: an API client gets a sentence in the API's format, not an HTML page."""
    if _is_api(request):
        return JsonResponse(
            {"error": "Something went wrong on the server; it was logged. Try again later."},
            status=500,
        )
    return defaults.server_error(request)
