"""The exported features.py finds the columns of a header PROMISE read, quoted names and all."""

import pandas as pd

from analysis.automl.profile import profile_table

from .test_exporters import make_spec
from .test_exporters_features import rendered

# Names with a line break, doubled quotes, and commas in a file separated by semicolons.
BROKEN = "first\nsecond"
QUOTED = 'say "hi", then, go'


def test_it_reads_quoted_header_names_holding_separators_and_line_breaks(tmp_path):
    spec = make_spec(
        "linear", "regression", numeric=["tenure", QUOTED], categorical=[BROKEN],
        high_cardinality=[], datetime=[],
    )  # fmt: skip
    path = tmp_path / "data.csv"
    frame = pd.DataFrame(
        {QUOTED: [1.5, 2.5], BROKEN: ["a", "b"], "tenure": [1, 2], "monthly_charges": [3.0, 4.0]}
    )
    frame.to_csv(path, index=False, sep=";")
    code = tmp_path / "code"
    code.mkdir()
    with rendered(spec, code) as modules:
        read = modules["features"].read_table(path)
    assert read[[QUOTED, BROKEN, "tenure"]].to_dict("list") == {
        QUOTED: [1.5, 2.5],
        BROKEN: ["a", "b"],
        "tenure": [1, 2],
    }
    # The names PROMISE trained with are the ones features.py reads.
    assert [c.name for c in profile_table(path).columns] == list(frame.columns)
