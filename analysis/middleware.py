class HtmxMiddleware:
    """Sets `request.htmx` for requests made by htmx, which get a page fragment back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.htmx = request.headers.get("HX-Request") == "true"
        return self.get_response(request)
