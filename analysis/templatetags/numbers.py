"""Numbers as people read them: the pages' template filters.

Metrics keep 4 significant digits, large values get thousands separators, durations and
sizes come in human units. The full value stays in a `title` tooltip (the filters that
return HTML), in the API and in the CSV downloads, which never pass through these filters.
"""

import math
from decimal import Decimal

from django import template
from django.utils.html import format_html

register = template.Library()

DASH = "–"


def _number(value) -> float | None:
    """`value` as a finite float, or None when it is not a number (or is NaN/inf)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def significant(value, digits: int = 4) -> str:
    """`value` to `digits` significant digits, with thousands separators, never in
    scientific notation between 1e-4 and 1e15, and never dropping a digit left of the point
    (123456.7 reads 123,457). Not a number: the value as text."""
    number = _number(value)
    if number is None:
        return DASH if value is None or value == "" else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    elif number == 0:
        text = "0"
    elif abs(number) < 1e-4 or abs(number) >= 1e15:
        text = f"{number:.{digits - 1}e}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(number))))
        if decimals and abs(round(number, decimals)) >= 10 ** (digits - decimals):
            decimals -= 1  # 0.99999 rounds up to 1.000, not 1.0000
        text = f"{number:,.{decimals}f}"
        if decimals and float(text.replace(",", "")) == 0:
            text = "0"
    return text


def alike(value, reference, digits: int = 4) -> str:
    """`value` with as many decimals as `reference` shows to `digits` significant digits:
    a difference of two scores reads like the scores (0.8800, −0.0100)."""
    number, shown = _number(value), significant(reference, digits)
    if number is None or _number(reference) is None or "e" in shown:
        return significant(value, digits)
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return f"{number:,.{decimals}f}"


def full(value) -> str:
    """The exact value, for a tooltip (repr of a float keeps every digit)."""
    return repr(value) if isinstance(value, float) else str(value)


@register.filter
def sig(value, digits=4) -> str:
    """Plain text: `value` to `digits` significant digits (see `significant`)."""
    return significant(value, int(digits))


@register.filter
def num(value, digits=4):
    """HTML: `value` to `digits` significant digits, the full value in a tooltip when it
    was cut. Text that is not a number passes through (escaped)."""
    text = significant(value, int(digits))
    number = _number(value)
    if number is None or isinstance(value, int) or _number(text) == number:
        return text
    return format_html('<span class="n" title="{}">{}</span>', full(value), text)


@register.filter
def cell(value):
    """HTML: a value of the user's table. Whole numbers as written (a year or a code reads
    2024, not 2,024); other numbers to 6 significant digits with the full value in a
    tooltip, without trailing zeros; text as it is."""
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        text = significant(value, 6)
        if "." in text and "e" not in text:
            text = text.rstrip("0").rstrip(".")  # as written: 0.718, not 0.718000
        if _number(text) == value:
            return text
        return format_html('<span class="n" title="{}">{}</span>', full(value), text)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value))
    return "" if value is None else value


@register.filter
def like(value, reference):
    """HTML: `value` with the decimals `reference` shows (see `alike`), full value in a
    tooltip: a difference of two scores, in the scores' terms."""
    text = alike(value, reference)
    number = _number(value)
    if number is None or _number(text) == number:
        return text
    return format_html('<span class="n" title="{}">{}</span>', full(value), text)


@register.filter
def count(value) -> str:
    """A whole number with thousands separators (17,817)."""
    number = _number(value)
    if number is None:
        return DASH if value is None or value == "" else str(value)
    return f"{round(number):,}"


@register.filter
def duration(seconds) -> str:
    """Seconds in human units: 0.42 s, 12 s, 3 min 20 s, 1 h 5 min."""
    number = _number(seconds)
    if number is None:
        return DASH
    if number < 10:
        return f"{significant(number, 2)} s"
    if number < 60:
        return f"{round(number)} s"
    minutes, secs = divmod(round(number), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


UNITS = ("bytes", "KB", "MB", "GB", "TB")


@register.filter
def size(nbytes):
    """HTML: a size in human units (1.2 MB), the exact byte count in a tooltip."""
    number = _number(nbytes)
    if number is None:
        return DASH
    value, unit = number, 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    text = f"{round(value):,} bytes" if unit == 0 else f"{significant(value, 3)} {UNITS[unit]}"
    return format_html('<span class="n" title="{} bytes">{}</span>', f"{round(number):,}", text)


@register.filter
def percent(share, digits=3) -> str:
    """A share (0–1) as a percentage; a non-zero share never reads as 0%."""
    number = _number(share)
    if number is None:
        return DASH
    if 0 < number < 0.001:
        return "< 0.1%"
    return f"{significant(number * 100, int(digits))}%"
