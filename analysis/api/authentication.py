"""`Authorization: Token <token>` with a personal API token (analysis/tokens.py)."""

from rest_framework import authentication, exceptions

from .. import tokens


class PersonalTokenAuthentication(authentication.TokenAuthentication):
    """DRF's header parsing and 401 challenge, checked against the hashed personal tokens
    (DRF's own authtoken keeps one token per user, in clear)."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        user = tokens.token_owner(key)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "That API token is not valid: it was revoked, mistyped or never existed. "
                "Create a new one on the API tokens page."
            )
        return user, None
