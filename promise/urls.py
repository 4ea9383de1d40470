from django.contrib import admin
from django.urls import include, path

from analysis import accounts, token_pages
from analysis.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("ops/", include("analysis.ops.urls")),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/tokens/", token_pages.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", token_pages.api_token_revoke, name="api_token_revoke"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("analysis.api_urls")),
    path("", include("analysis.urls")),
]

# Under /api/, a missing endpoint or a server error answers JSON in the API's format.
handler404 = "analysis.api.errors.page_not_found"
handler500 = "analysis.api.errors.server_error"
