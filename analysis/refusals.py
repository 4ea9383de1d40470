"""What every use case refuses with, and the sentence for our own failures: the refusal a
user sees (the services raise it, the pages and the API show it)."""

UNEXPECTED_ERROR = (
    "Something went wrong on our side while {doing}; the team can see the details. "
    "Your data is kept: try again, and tell us if it happens again."
)


class ServiceError(Exception):
    """A request the service refuses, with a sentence to show the user."""


class LimitExceeded(ServiceError):
    """A request over one of the user's limits (analysis/limits.py); `status` is the
    API's answer."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status
