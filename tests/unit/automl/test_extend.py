"""extend_candidate: a second round continues a stored search and replaces the model only
when the CV score improves."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.automl.discovery import SEARCH_FILE, load_search, train_candidate
from analysis.automl.extension import adopt_extension, extend_candidate, staged_dir
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table


@pytest.fixture
def trained(tmp_path):
    """A run whose decision tree trained; its search.json is cut back to one trial."""
    rng = np.random.default_rng(5)
    rows = 200
    frame = pd.DataFrame({"size": rng.normal(10, 3, rows), "noise": rng.normal(size=rows)})
    frame["target"] = np.where(frame["size"] + rng.normal(0, 2, rows) > 10, "big", "small")
    source = tmp_path / "table.csv"
    frame.to_csv(source, index=False)
    run_dir = tmp_path / "run"
    plan = prepare_run(
        source, run_dir, profile=profile_table(source), target="target", max_rows=None, seed=1
    )
    train_candidate(run_dir, plan, "decision_tree", time_limit=20)
    return run_dir, plan


def first_round_scored(run_dir, score: float) -> None:
    """As if the first round had stopped after one trial, which scored `score`."""
    path = run_dir / "candidates" / "decision_tree" / SEARCH_FILE
    search = json.loads(path.read_text())
    trial = search["history"][0]
    trial["score"], trial["fold_scores"] = score, [score] * len(trial["fold_scores"])
    search.update(history=[trial], cv_scores=trial["fold_scores"], params=trial["params"])
    search.update(converged="", planned_trials=1)
    path.write_text(json.dumps(search))


def test_it_keeps_every_search_beside_the_model(trained):
    run_dir, _ = trained

    search = load_search(run_dir / "candidates" / "decision_tree")

    assert search.trials == 40 and search.converged == "all 40 trials ran"
    assert search.refit_seconds > 0  # the final fit's, for a second round's planning


def test_it_replaces_the_model_when_the_second_round_scores_better(trained):
    run_dir, plan = trained
    first_round_scored(run_dir, 0.0)

    extension = extend_candidate(run_dir, plan, "decision_tree", time_limit=20)

    assert extension.previous_cv == 0.0
    assert extension.outcome is not None and extension.outcome.cv_mean > 0.5
    assert extension.outcome.trials == 40
    assert (staged_dir(run_dir, "decision_tree") / "model.joblib").exists()
    adopt_extension(run_dir, "decision_tree")
    model_dir = run_dir / "candidates" / "decision_tree"
    assert not staged_dir(run_dir, "decision_tree").exists()
    assert load_search(model_dir).cv_mean == extension.outcome.cv_mean
    assert extension.outcome.model_dir == str(model_dir)


def test_it_keeps_the_first_model_when_no_new_trial_beats_it(trained):
    run_dir, plan = trained
    first_round_scored(run_dir, 2.0)  # no accuracy beats it
    model_file = run_dir / "candidates" / "decision_tree" / "model.joblib"
    before = model_file.read_bytes()

    extension = extend_candidate(run_dir, plan, "decision_tree", time_limit=20)

    assert extension.outcome is None
    assert model_file.read_bytes() == before
    assert not staged_dir(run_dir, "decision_tree").exists()
    assert load_search(model_file.parent).trials == 40  # the new trials are kept


def test_it_finishes_putting_a_better_model_in_place_after_a_lost_worker(trained):
    run_dir, plan = trained
    first_round_scored(run_dir, 0.0)
    extend_candidate(run_dir, plan, "decision_tree", time_limit=20)
    model_dir = run_dir / "candidates" / "decision_tree"
    model_dir.rename(run_dir / "candidates" / "decision_tree.first-round")  # died mid-swap

    adopt_extension(run_dir, "decision_tree")

    assert (model_dir / "model.joblib").exists()
    assert sorted(p.name for p in (run_dir / "candidates").iterdir()) == ["decision_tree"]
