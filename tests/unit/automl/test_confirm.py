"""Confirmation on the whole file: the unseen rows only, scored exactly as in memory."""

import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.automl.confirm import compare_to_holdout, confirm_candidates, training_rows
from analysis.automl.discovery import train_candidate
from analysis.automl.errors import ProblemError
from analysis.automl.fitted import FittedModel
from analysis.automl.ingest import read_table
from analysis.automl.metrics import score_predictions
from analysis.automl.prepare import encode_target, prepare_run
from analysis.automl.profile import profile_table
from analysis.automl.sampling import ROW_NUMBER

NAMES = ("linear", "decision_tree")


def table(rows: int, *, regression: bool) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 3, rows),
            "count": rng.integers(0, 9, rows),
            "shape": rng.choice(["round", "flat", "long", "odd"], rows),
        }
    )
    signal = frame["size"] + 3 * (frame["shape"] == "round") + rng.normal(0, 2, rows)
    if regression:
        frame["target"] = signal + 100
    else:
        frame["target"] = np.select([signal < 9, signal < 12], ["low", "mid"], "high")
    frame.loc[frame.index % 13 == 0, "target"] = None  # never scored: no target
    return frame


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """A sampled classification run and a regression run, each with NAMES trained."""
    runs = {}
    for regression in (False, True):
        folder = tmp_path_factory.mktemp("regression" if regression else "classification")
        source = folder / "table.parquet"
        table(2000, regression=regression).to_parquet(source, row_group_size=300, index=False)
        run_dir = folder / "run"
        plan = prepare_run(
            source, run_dir, profile=profile_table(source), target="target", max_rows=400, seed=2
        )
        for name in NAMES:
            train_candidate(run_dir, plan, name, time_limit=5)
        runs[regression] = (source, run_dir, plan)
    return runs


@pytest.fixture
def sampled_run(trained_runs, tmp_path):
    """A copy of one of the trained runs, for a test to change."""

    def copy(*, regression: bool):
        source, run_dir, plan = trained_runs[regression]
        shutil.copy(source, tmp_path / source.name)
        shutil.copytree(run_dir, tmp_path / "run")
        return tmp_path / source.name, tmp_path / "run", plan

    return copy


def scored_in_memory(source, run_dir, plan, name) -> tuple[dict, int]:
    """The unseen labelled rows, all at once, scored by score_predictions."""
    whole = read_table(source).compute().reset_index(drop=True)
    unseen = whole[~whole.index.isin(training_rows(run_dir)) & whole["target"].notna()]
    model = FittedModel.load(run_dir / "candidates" / name)
    predicted, proba = model.predict_encoded(unseen)
    metrics = score_predictions(plan.task, encode_target(unseen["target"], plan), predicted, proba)
    metrics.pop("roc_auc", None)  # needs every score at once; not a running sum
    return metrics, len(unseen)


@pytest.mark.parametrize("regression", [False, True], ids=["classification", "regression"])
def test_it_scores_the_unseen_rows_as_scoring_them_in_memory_does(trained_runs, regression):
    source, run_dir, plan = trained_runs[regression]

    confirmed = confirm_candidates(source, run_dir, NAMES, batch_rows=97)

    for name in NAMES:
        expected, rows = scored_in_memory(source, run_dir, plan, name)
        assert confirmed[name].rows == rows
        assert confirmed[name].metrics == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_it_leaves_out_the_training_rows_and_keeps_the_holdout(trained_runs):
    source, run_dir, plan = trained_runs[False]
    labelled = int(pd.read_parquet(source)["target"].notna().sum())

    confirmed = confirm_candidates(source, run_dir, ["linear"])

    assert confirmed["linear"].rows == labelled - plan.train_rows
    holdout = pd.read_parquet(run_dir / "holdout.parquet")[ROW_NUMBER]
    assert not set(holdout) & set(training_rows(run_dir))


def test_it_never_makes_the_row_number_a_feature(trained_runs):
    _, run_dir, plan = trained_runs[True]

    assert ROW_NUMBER in pq.read_schema(run_dir / "train.parquet").names
    assert ROW_NUMBER not in plan.features.columns
    assert ROW_NUMBER not in plan.features.dropped


def test_it_explains_that_a_run_without_row_numbers_cannot_be_confirmed(sampled_run):
    source, run_dir, _ = sampled_run(regression=True)
    train = pd.read_parquet(run_dir / "train.parquet").drop(columns=ROW_NUMBER)
    train.to_parquet(run_dir / "train.parquet", index=False)

    with pytest.raises(ProblemError, match="start a new run"):
        confirm_candidates(source, run_dir, ["linear"])


def test_it_counts_and_leaves_out_rows_of_a_class_the_sample_never_held(sampled_run):
    source, run_dir, _ = sampled_run(regression=False)
    frame = pd.read_parquet(source)
    trained = set(training_rows(run_dir))
    labelled = frame.index[frame["target"].notna()]
    unseen_labelled = [i for i in labelled if i not in trained]
    frame.loc[unseen_labelled[:5], "target"] = "brand new"
    frame.to_parquet(source, row_group_size=300, index=False)

    confirmed = confirm_candidates(source, run_dir, ["linear"])

    assert confirmed["linear"].unknown_class_rows == 5
    assert confirmed["linear"].rows == len(unseen_labelled) - 5


def test_it_explains_that_a_file_read_differently_no_longer_lines_up(sampled_run):
    source, run_dir, _ = sampled_run(regression=True)
    pd.read_parquet(source).iloc[1:].to_parquet(source, index=False)

    with pytest.raises(ProblemError, match="read again with other settings"):
        confirm_candidates(source, run_dir, ["linear"])


def test_it_puts_the_runs_metric_first_with_the_difference_to_the_holdout():
    rows, outside = compare_to_holdout(
        {"accuracy": 0.8, "f1_macro": 0.7, "roc_auc": 0.9},
        {"accuracy": 0.75, "f1_macro": 0.72, "unknown_class_rows": 3},
        metric="f1_macro",
        interval=[0.65, 0.75],
    )

    assert [(r.metric, r.full) for r in rows] == [
        ("f1_macro", 0.72), ("accuracy", 0.75), ("roc_auc", None)
    ]  # fmt: skip
    assert rows[1].difference == pytest.approx(-0.05)
    assert outside is False


@pytest.mark.parametrize(
    ("interval", "expected"), [([0.8, 0.9], True), ([0.7, 0.8], False), (None, None)]
)
def test_it_says_whether_the_full_file_score_is_outside_the_holdout_interval(interval, expected):
    _, outside = compare_to_holdout({"r2": 0.85}, {"r2": 0.75}, metric="r2", interval=interval)

    assert outside is expected
