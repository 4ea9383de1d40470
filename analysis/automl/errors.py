"""Errors the core raises for problems a user can fix; their message is shown as is."""


class UserFacingError(Exception):
    """A problem with the user's data or choices, worded as one sentence for the user."""


class DataFileError(UserFacingError):
    """The uploaded file cannot be read as a table."""


class ProblemError(UserFacingError):
    """The chosen target or settings cannot be learned from."""
