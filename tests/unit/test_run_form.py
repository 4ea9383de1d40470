"""The run form takes column names as the browser sends them."""

from analysis.forms import RunForm

COLUMNS = ["id", "first\nsecond", "label"]


def form(data: dict) -> RunForm:
    base = {"target": "label", "sample": "default", "time_budget": 60}
    return RunForm({**base, **data}, columns=COLUMNS, time_columns=["first\nsecond"])


def test_it_matches_a_column_name_whose_line_break_came_back_as_crlf():
    # Browsers send every line break of an option's value as CRLF.
    submitted = form({"target": "first\r\nsecond", "excluded_columns": ["first\r\nsecond"]})

    assert submitted.is_valid(), submitted.errors
    assert submitted.cleaned_data["target"] == "first\nsecond"
    assert submitted.cleaned_data["excluded_columns"] == ["first\nsecond"]


def test_it_still_refuses_a_column_the_table_does_not_have():
    assert not form({"target": "nope"}).is_valid()
