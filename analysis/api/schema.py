"""What drf-spectacular cannot tell by itself about PROMISE's API, for the OpenAPI schema."""

from drf_spectacular.authentication import BasicScheme


class LockoutAwareBasicScheme(BasicScheme):
    """HTTP basic auth with django-axes' lockout is still HTTP basic auth."""

    target_class = "analysis.accounts.LockoutAwareBasicAuthentication"
    priority = 0
