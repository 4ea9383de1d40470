import pandas as pd
import pytest

from analysis.automl.errors import ProblemError
from analysis.automl.problem import (
    check_target,
    class_labels,
    detect_task,
    profiled_as_class_label,
)
from analysis.automl.profile import profile_table


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([1.5, 2.25, 3.0, 4.75], "regression"),
        (list(range(50)), "regression"),
        ([0, 1, 1, 0], "binary"),
        (["yes", "no", "yes"], "binary"),
        (["a", "b", "c", "a"], "multiclass"),
        ([1, 2, 3, 2, 1], "multiclass"),
    ],
)
def test_it_detects_the_task_from_the_target(values, task):
    assert detect_task(pd.Series(values)) == task


@pytest.mark.parametrize(
    "values",
    [
        [0.5, 1.5, 2.5] * 40,  # few values, but not whole numbers: a number
        list(range(120)),  # whole numbers that all differ: a number, not 120 classes
        [1.25 * i for i in range(120)],
        [0, 1] * 60,
        [1, 2, 3] * 40,
        ["yes", "no"] * 60,
    ],
)
def test_the_profile_and_the_sampled_rows_agree_on_class_labels(tmp_path, values):
    path = tmp_path / "t.csv"
    pd.DataFrame({"y": values, "x": range(len(values))}).to_csv(path, index=False)
    profiled = profiled_as_class_label(profile_table(path).column("y"))
    assert profiled == (detect_task(pd.read_csv(path)["y"]) != "regression")


@pytest.mark.parametrize(
    ("values", "task", "phrase"),
    [
        ([None, None, None], "binary", "every value is missing"),
        (["a", "a", "a"], "binary", "single value"),
        (["a", "a", "b"], "binary", "single row"),
        (["x", "y", "z"], "regression", "not numeric"),
    ],
)
def test_it_refuses_targets_that_cannot_be_learned(values, task, phrase):
    with pytest.raises(ProblemError, match=phrase):
        check_target(pd.Series(values, name="y", dtype=object), task)


def test_it_lists_classes_as_plain_sorted_values():
    assert class_labels(pd.Series([2.0, 1.0, 2.0, None])) == [1, 2]
