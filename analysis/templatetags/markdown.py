"""Markdown to HTML for the export preview's README (markdown-it-py, CommonMark).

The README is written by PROMISE from templates, but column and file names in it come
from users: raw HTML in the text is never passed through (``html: False`` escapes it),
and markdown-it refuses javascript:, vbscript: and data: link targets.
"""

from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


@register.filter
def markdown(text: str) -> SafeString:
    """`text` rendered as HTML, any HTML inside it shown as text."""
    return mark_safe(_MARKDOWN.render(str(text)))  # noqa: S308 - html=False escapes the input
