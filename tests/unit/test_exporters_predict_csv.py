"""predict.py writes CSV that a spreadsheet shows as text: no cell of it runs as a formula."""

import numpy as np
import pandas as pd
import pytest

from .test_exporters import make_spec
from .test_exporters_features import rendered

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
]


@pytest.fixture
def predict(tmp_path):
    with rendered(make_spec("linear", "multiclass"), tmp_path, modules=("predict",)) as modules:
        yield modules["predict"]


def test_it_puts_a_quote_before_text_that_starts_like_a_formula(predict):
    frame = pd.DataFrame({"kept": FORMULAS})

    escaped = predict.spreadsheet_text(frame)

    assert escaped["kept"].tolist() == ["'" + text for text in FORMULAS]


def test_it_leaves_numbers_plain_text_and_gaps_as_they_are(predict):
    frame = pd.DataFrame(
        {
            "number": [-1.5, 2.0, np.nan],
            "text": ["-1.5", "plain = text", None],
            "mixed": ["+3e5", 7, "a-b"],
        }
    )

    escaped = predict.spreadsheet_text(frame)

    pd.testing.assert_frame_equal(escaped, frame)


def test_it_puts_a_quote_before_a_column_name_that_starts_like_a_formula(predict):
    frame = pd.DataFrame({"=1+1": ["a"], "prediction": ["b"]})

    assert list(predict.spreadsheet_text(frame).columns) == ["'=1+1", "prediction"]


def test_it_writes_the_quoted_cells_to_the_csv(predict, tmp_path):
    out = tmp_path / "out.csv"
    chunks = [pd.DataFrame({"kept": FORMULAS[:2], "p": [-0.5, 1.0]})]

    predict.write_chunks(iter(chunks), out)

    assert out.read_text().splitlines() == [
        "kept,p",
        "'=cmd|' /C calc'!A0,-0.5",
        '"\'=HYPERLINK(""http://example.com"",""x"")",1.0',
    ]
