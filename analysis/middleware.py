from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control

from .workflow import BrokerUnavailable


class HtmxMiddleware:
    """Sets `request.htmx` for requests made by htmx, which get a page fragment back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.htmx = request.headers.get("HX-Request") == "true"
        return self.get_response(request)


class PrivatePagesMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in user.

    Their pages and API answers hold their own data: no shared proxy may keep them, and
    the browser must not show them from its cache after log-out (the Back button).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Read after the view: DRF sets request.user of a basic-auth API call only then.
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class BrokerUnavailableMiddleware:
    """503 with a sentence when a task could not be sent because the broker is down.

    The row the task was for is saved by then, and analysis/reconcile.py sends its task
    once the broker is back: the sentence says so, so the user neither waits for an
    error to clear nor sends the same work twice. The API gets `{"error": sentence}` as
    its other refusals; pages get the sentence on a page of their own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BrokerUnavailable):
            return None
        message = str(exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": message}, status=503)
        else:
            context = {"message": message, "back": reverse("home")}
            response = render(request, "analysis/unavailable.html", context, status=503)
        response["Retry-After"] = str(round(settings.PROMISE_RECONCILE_SECONDS))
        return response
