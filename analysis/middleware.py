from django.utils.cache import patch_cache_control


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
