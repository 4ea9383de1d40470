from django.contrib import admin
from django.urls import include, path

from analysis import accounts
from analysis.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("analysis.api_urls")),
    path("", include("analysis.urls")),
]
