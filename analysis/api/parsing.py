"""Reading request bodies: JSON a client sent by mistake is refused with a sentence, never
a 500, and a field the endpoint does not take is named, never dropped."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import refusal

# No endpoint takes more than three levels ({"rows": [{column: value}]}); a little room.
MAX_BODY_DEPTH = 20


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, refusing with a 400 the bodies it would fail on or pass on broken.

    Python's json module raises RecursionError past about a thousand levels of nesting
    (a 500), and it reads a lone "\\ud800" escape into a string that cannot be written
    back as UTF-8 (a 500 when an answer quotes it, or when the database stores it).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        except ParseError as exc:
            raise NotJSON(exc.detail) from exc
        _check_body(data)
        return data


class NotJSON(ParseError):
    """The body is not JSON at all (as opposed to JSON the API refuses)."""


def _too_deep() -> str:
    return f"The JSON body nests arrays or objects too deep: at most {MAX_BODY_DEPTH} levels."


def _check_body(data) -> None:
    """Raise ParseError for nesting deeper than MAX_BODY_DEPTH or a lone surrogate.

    Walked with a stack, not recursion, so any depth json gave back is measured safely;
    only containers go on the stack and text is looked at where it is found (a batch of
    1,000 records holds thousands of values: this walk is part of every request's cost).
    """
    _check_text(data)
    pending = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        if depth > MAX_BODY_DEPTH:
            raise ParseError(_too_deep())
        if isinstance(value, dict):
            for name in value:
                if not name.isascii():
                    _check_text(name)
            children = value.values()
        else:
            children = value
        for child in children:
            if type(child) is str:
                if not child.isascii():
                    _check_text(child)
            elif isinstance(child, dict | list):
                pending.append((child, depth + 1))
            elif isinstance(child, str):
                _check_text(child)


def _check_text(value) -> None:
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ParseError(
                "The JSON body holds a \\u escape of half a character (a lone "
                "surrogate): send text as UTF-8."
            ) from None


def json_object(request: Request, known, *, not_json: str = "") -> dict | Response:
    """The request's JSON object, or a 400 with a sentence: the body is not JSON (then
    `not_json` when given), nests too deep, is not an object, or has fields the endpoint
    does not take."""
    try:
        data = request.data
    except NotJSON as exc:
        return refusal(not_json or str(exc.detail))
    except ParseError as exc:
        return refusal(str(exc.detail))
    return unknown_fields(data, known) or data


def unknown_fields(data, known) -> Response | None:
    """A 400 naming every field of a JSON object the endpoint does not take, or None.

    A misspelt or unsupported setting must never be dropped silently: the run would go
    on with the default and the user would not know.
    """
    if not isinstance(data, dict):
        return refusal("Send a JSON object.")
    unknown = sorted(set(data) - set(known))
    if not unknown:
        return None
    return refusal(
        f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
        f"This endpoint takes {', '.join(sorted(known))}.",
        fields={name: ["This field is not known."] for name in unknown},
    )
