"""The pages' number filters: 4 significant digits, separators, human units, full value
kept in a tooltip; the README preview's markdown never passes HTML through."""

import pytest
from django.template import Context, Template

from analysis.templatetags.markdown import markdown
from analysis.templatetags.numbers import (
    alike,
    cell,
    count,
    duration,
    num,
    percent,
    significant,
    size,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.7943322109988776, "0.7943"),
        (4750.2216796875, "4,750"),
        (123456.7, "123,457"),
        (17817, "17,817"),
        (-0.0123456, "-0.01235"),
        (0.99999, "1.000"),
        (0.0, "0"),
        (1e-7, "1.000e-07"),
        (None, "–"),
        ("gini", "gini"),
        (True, "True"),
    ],
)
def test_it_keeps_four_significant_digits_with_separators(value, text):
    assert significant(value) == text


def test_it_keeps_the_full_value_in_a_tooltip_when_it_cuts_one():
    assert num(0.7943322109988776) == '<span class="n" title="0.7943322109988776">0.7943</span>'
    assert num(4750.2216796875) == '<span class="n" title="4750.2216796875">4,750</span>'
    assert num(0.5) == "0.5000"  # nothing cut, no tooltip
    assert num(12) == "12"


def test_text_that_is_not_a_number_stays_escaped_in_a_page():
    page = Template("{% load numbers %}{{ v|num }} {{ v|sig }}").render(Context({"v": "<b>x</b>"}))
    assert page == "&lt;b&gt;x&lt;/b&gt; &lt;b&gt;x&lt;/b&gt;"


def test_a_table_cell_keeps_whole_numbers_as_written():
    assert cell(2024) == 2024 and cell(2024.0) == "2024"
    assert cell(11523.250757114174) == (
        '<span class="n" title="11523.250757114174">11,523.3</span>'
    )
    assert cell(0.718) == "0.718"
    assert cell(None) == "" and cell("Ideal") == "Ideal"


def test_it_gives_a_difference_the_decimals_of_the_score():
    assert alike(-0.02, 0.89) == "-0.0200"
    assert alike(12.345, 4750.2) == "12"


def test_it_counts_with_separators():
    assert count(14253) == "14,253"
    assert count(14253.0) == "14,253"
    assert count(None) == "–"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.423, "0.42 s"), (12.4, "12 s"), (200, "3 min 20 s"), (3900, "1 h 5 min"), (None, "–")],
)
def test_it_says_durations_in_human_units(seconds, text):
    assert duration(seconds) == text


def test_it_says_sizes_in_human_units_with_the_bytes_in_a_tooltip():
    assert size(1234567) == '<span class="n" title="1,234,567 bytes">1.18 MB</span>'
    assert size(10) == '<span class="n" title="10 bytes">10 bytes</span>'


def test_a_non_zero_share_never_reads_as_zero_percent():
    assert percent(0.00001) == "< 0.1%"
    assert percent(0.25) == "25.0%"
    assert percent(0) == "0%"


def test_markdown_shows_html_in_a_column_name_as_text():
    html = markdown(
        "# Model\n\nColumn `<b>x</b>` and <img src=x onerror=alert(1)> [a](javascript:alert(1))"
    )
    assert "<h1>Model</h1>" in html
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html
