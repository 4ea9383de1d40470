"""The API's busiest call, a candidate's predictions, answered near the top of the middleware.

`POST /api/candidates/<id>/predict/` sent with a personal API token and a plain JSON body
({"row": …} or {"rows": […]}) is answered here with the API view's own code
(candidates.prediction_answer: the same checks, numbers and answer), without the
middleware below this one, the address lookup and DRF's dispatch: those cost a one-row
prediction about as much as predicting it did (benchmarks/serving.py measures both ways).

Every request this road is not sure to answer exactly as the view would goes on down the
usual road, unchanged: another way of logging in, a token that is not valid, another
user's candidate, a body that is not plain JSON or holds other fields ("explain"), an
answer asked for in another format, a client over its rate. So the view stays the one
place that refuses those, and this road keeps the view's authentication, throttling and
headers: SecurityMiddleware's and XFrameOptionsMiddleware's (above it), the Content
Security Policy as CSPMiddleware (below it) gives an answer without a nonce, built once
(django-csp builds it anew for every answer), and `Cache-Control: private, no-store` as
PrivatePagesMiddleware gives an answer to a signed-in user.
"""

import functools
import io
import re

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from .. import serving, tokens
from .candidates import prediction_answer
from .parsing import JSONBodyParser

PATH = re.compile(r"/api/candidates/([0-9]+)/predict/")
FIELDS = {"row", "rows"}
ACCEPTED = ("", "*/*", "application/json")  # the answers DRF would give as plain JSON
PARSER = JSONBodyParser()  # the view's parser
RENDERER = JSONRenderer()


class PredictionRoute:
    """Answers a plain prediction sent with a token (see above); passes on the rest."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        answered = _answer(request) if request.method == "POST" else None
        return answered or self.get_response(request)


def _answer(request: HttpRequest) -> HttpResponse | None:
    """The prediction's answer, or None to leave the request to the usual road."""
    found = PATH.fullmatch(request.path_info)
    if found is None or request.META.get("HTTP_ACCEPT", "").strip() not in ACCEPTED:
        return None
    request.get_host()  # an address not in ALLOWED_HOSTS is refused, as below
    user = _token_owner(request)
    if user is None:
        return None
    data = _plain_json(request)
    if not isinstance(data, dict) or len(data) != 1 or not data.keys() <= FIELDS:
        return None
    candidate = serving.owned_candidate(int(found[1]), user)
    if candidate is None:
        return None
    request.user = user  # as DRF's authentication sets it, for the throttles' keys
    # Each throttle counts the request, as DRF's dispatch has them do.
    throttles = api_settings.DEFAULT_THROTTLE_CLASSES
    if not all([throttle().allow_request(request, None) for throttle in throttles]):
        return None
    rows = [data["row"]] if "row" in data else data["rows"]
    body, status = prediction_answer(candidate, rows)
    response = HttpResponse(RENDERER.render(body), status=status, content_type="application/json")
    response["Allow"] = "POST, OPTIONS"
    patch_vary_headers(response, ["Accept"])
    patch_cache_control(response, private=True, no_store=True)
    for name, policy in _policy_headers().items():
        response[name] = policy
    return response


@functools.cache
def _policy_headers() -> dict[str, str]:
    """The Content Security Policy headers of an answer that uses no nonce."""
    policies = {HEADER: build_policy(), HEADER_REPORT_ONLY: build_policy(report_only=True)}
    return {name: policy for name, policy in policies.items() if policy}


def _token_owner(request: HttpRequest):
    """The owner of the request's `Authorization: Token …`, or None (none sent, not
    valid, or another way of logging in)."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(words) != 2 or words[0].lower() != "token":
        return None
    return tokens.token_owner(words[1])


def _plain_json(request: HttpRequest):
    """The body as DRF's JSON parser reads it, or None where the parser would refuse it
    (then the view says why)."""
    if request.content_type != "application/json":
        return None
    if request.content_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return None
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None
    try:
        return PARSER.parse(io.BytesIO(request.body), parser_context={"encoding": "utf-8"})
    except ParseError:
        return None
