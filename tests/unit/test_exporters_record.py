"""The reproducibility record each export carries, in config.json and in its README."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from exporters import render_files
from exporters.record import split_code
from exporters.spec import SampleFacts, SplitFacts

from .test_exporters import SHA256, make_spec

RUFF = Path(sys.executable).with_name("ruff")
# The ways a holdout and folds are cut: each holdout, each splitter, each search subset.
SPLITS = {
    "stratified": ("binary", SplitFacts("stratified", 0.2, "StratifiedKFold", 5, 800, [0.8] * 5)),
    "seeded-subset": (
        "multiclass",
        SplitFacts("stratified", 0.2, "StratifiedKFold", 2, 503, [0.7] * 2, 500, quick_cv=True),
    ),
    "unknown-draw": ("multiclass", SplitFacts("stratified", 0.2, "StratifiedKFold", 3, 503)),
    "kfold-subset": ("regression", SplitFacts("random", 0.2, "KFold", 3, 500, [0.5] * 3, 500)),
    "latest-subset": ("regression", SplitFacts("latest", 0.2, "TimeSeriesSplit", 3, 500, [], 500)),
    "not-cross-validated": ("regression", SplitFacts("random", 0.2, "", 0)),
    "not-recorded": ("binary", SplitFacts("stratified", 0.2)),
}


def record(spec) -> dict:
    return json.loads(render_files(spec)["config.json"])["reproducibility"]


def test_config_json_names_the_uploaded_file_and_how_it_was_read():
    data_file = record(make_spec())["data_file"]

    assert data_file == {
        "name": "churn.csv",
        "size_bytes": 123_456,
        "sha256": SHA256,
        "read_options": {"format": "csv", "encoding": "utf-8", "delimiter": ";", "header_row": 1},
        "overrides": {"delimiter": ";"},
        "renamed_columns": {},
    }


def test_config_json_records_sampling_holdout_and_folds():
    spec = make_spec("decision_tree", "binary")

    facts = record(spec)

    assert facts["sampling"] == {
        "strategy": "random",
        "seed": 7,
        "sampled": True,
        "sample_rows": 1000,
        "usable_rows": 4900,
        "total_rows": 5000,
        "time_column": None,
        "order": "by seeded random key",
    }
    assert facts["holdout"] == {
        "method": "stratified",
        "share": 0.2,
        "random_state": 7,
        "stratified_by_target": True,
        "train_rows": 800,
        "holdout_rows": 200,
    }
    assert facts["cross_validation"] == {
        "splitter": "StratifiedKFold",
        "n_splits": 5,
        "shuffle": True,
        "random_state": 7,
        "rows": 800,
        "subset": None,
        "drawn_rows": None,
        "quick_cv": False,
        "metric": "accuracy",
        "fold_scores": spec.splits.cv_scores,
    }


def test_config_json_records_the_python_and_library_versions():
    facts = record(make_spec("xgboost", "regression"))

    assert facts["python"] == "3.11.7"
    assert facts["packages_at_discovery"]["xgboost-cpu"] == "3.1.0"
    assert facts["requirements"] == {"numpy": "2.4.6", "pandas": "3.1.1", "scikit-learn": "1.9.1"}


def test_a_time_based_record_has_no_seeded_split():
    spec = make_spec(
        sample=SampleFacts("time_based", 1000, 1000, 1000, 800, 200, time_column="signup_date"),
        splits=SPLITS["latest-subset"][1],
    )

    facts = record(spec)

    assert facts["sampling"]["order"] == "oldest first"
    assert facts["holdout"]["random_state"] is None
    assert (facts["cross_validation"]["shuffle"], facts["cross_validation"]["subset"]) == (
        False,
        "latest",
    )


def test_the_readme_states_the_record():
    readme = render_files(make_spec("random_forest", "multiclass"))["README.md"]

    assert f"is `{SHA256}`" in readme
    assert "123,456 bytes" in readme
    assert 'delimiter `";"`' in readme and "you chose delimiter" in readme
    assert "`StratifiedKFold(n_splits=5, shuffle=True, random_state=7)`" in readme
    assert "random_state=7, stratify=sample[target].astype(str))`" in readme
    assert "folds = list(splitter.split(train, y))" in readme
    assert "Python 3.11.7; discovery ran on numpy 2.4.6, scikit-learn 1.9.1" in readme
    assert split_code(make_spec("random_forest", "multiclass")) in readme


def test_the_readme_shows_a_hostile_file_name_as_one_code_span():
    spec = make_spec()
    spec = replace(spec, source=replace(spec.source, name="a`b\n# not a heading.csv"))

    readme = render_files(spec)["README.md"]

    assert '``"a`b\\n# not a heading.csv"``' in readme


def test_train_checks_the_data_file_against_the_recorded_hash():
    train = render_files(make_spec())["train.py"]

    assert f'DISCOVERY_SHA256 = "{SHA256}"' in train
    assert "check_data_file(args.data)" in train


def test_an_export_made_without_the_file_says_so_and_checks_nothing():
    files = render_files(make_spec(source=None))

    assert "DISCOVERY_SHA256" not in files["train.py"]
    assert "hashlib" not in files["train.py"]
    assert json.loads(files["config.json"])["reproducibility"]["data_file"] is None
    assert "not recorded with this export" in files["README.md"]


def test_the_spec_refuses_a_hash_that_is_not_a_sha256():
    spec = make_spec()

    with pytest.raises(ValueError, match="SHA-256"):
        replace(spec, source=replace(spec.source, sha256=SHA256[:-1] + "\n"))


def test_the_spec_refuses_an_unknown_splitter():
    with pytest.raises(ValueError, match="CV splitter"):
        make_spec(splits=SplitFacts("random", 0.2, "LeaveOneOut", 5))


@pytest.mark.parametrize("seed", [7, 2**31 - 1])
@pytest.mark.parametrize("case", SPLITS)
def test_the_split_code_is_clean_python_for_every_kind_of_split(case, seed, tmp_path):
    task, splits = SPLITS[case]
    spec = make_spec("linear", task, splits=splits, seed=seed)
    for name, text in render_files(spec).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "rebuild.py").write_text(split_code(spec), encoding="utf-8")

    # `sample` is the user's; every other name must be defined or imported.
    check = subprocess.run(
        [RUFF, "check", "--isolated", "--select", "E,F,W,I,B,UP", "--ignore", "F821"]
        + ["rebuild.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    fmt = subprocess.run(
        [RUFF, "format", "--isolated", "--check", "--diff", "rebuild.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert check.returncode == 0, check.stdout
    assert fmt.returncode == 0, fmt.stdout
    undefined = subprocess.run(
        [RUFF, "check", "--isolated", "--select", "F821", "--output-format", "json", "rebuild.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert {problem["message"] for problem in json.loads(undefined.stdout)} <= {
        "Undefined name `sample`"
    }


def test_the_readme_says_how_a_quick_cv_drew_its_rows():
    spec = make_spec("linear", "multiclass", splits=SPLITS["seeded-subset"][1])

    readme = render_files(spec)["README.md"]

    assert "a quick CV, as the time limit was too short for the usual one: 2 folds" in readme
    assert "The search used a seeded subset of 503 of the training rows." in readme
    assert "np.random.default_rng(7).choice(len(y), 500, replace=False)" in readme
    assert "folds = list(splitter.split(searched, y))" in readme


def test_a_draw_of_unrecorded_size_gives_no_folds_rather_than_wrong_ones():
    code = split_code(make_spec("linear", "multiclass", splits=SPLITS["unknown-draw"][1]))

    assert "folds =" not in code
    assert "cannot be cut again" in code
