"""Syntax highlighting of exported files for the preview page (Pygments)."""

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(cssclass="highlight")


def highlight_file(name: str, text: str) -> SafeString:
    """HTML for `text`, highlighted as the kind of file `name` says.

    Pygments escapes the text itself, so user-derived names inside the code stay text.
    """
    try:
        lexer = get_lexer_for_filename(name, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return mark_safe(highlight(text, lexer, _FORMATTER))  # noqa: S308 - Pygments escapes
