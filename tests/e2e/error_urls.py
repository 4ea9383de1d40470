"""The site's addresses plus two that fail on purpose, for the error pages' browser test."""

from django.core.exceptions import PermissionDenied
from django.urls import include, path

from promise.urls import handler404, handler500  # noqa: F401 - the site's own handlers


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a failure on purpose, to show the 500 page")


urlpatterns = [
    path("test-forbidden/", forbidden),
    path("test-broken/", broken),
    path("", include("promise.urls")),
]
