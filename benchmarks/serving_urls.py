"""PROMISE's addresses plus the serving benchmark's reference: the cheapest authenticated
JSON answer the API can give (same authentication, throttling and renderer as predict)."""

from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def ping(request):
    return Response({"user": request.user.pk})


urlpatterns = [path("bench/ping/", ping), path("", include("promise.urls"))]
