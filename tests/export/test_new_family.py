"""A sixth family is one module: defined here alone and registered, it is searched, ranked,
served and exported like the five, and its export reproduces its holdout score.

Nothing outside this file names it: the search, the budget, the trainer, the saved model,
the compiled serving path and the export all read what its `Candidate` says.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.automl.budget import candidate_time_limit
from analysis.automl.candidates import CANDIDATES, registered
from analysis.automl.candidates.base import SearchSpace, SklearnCandidate, int_range
from analysis.automl.compiled import CompiledModel
from analysis.automl.discovery import TrainingData, run_search
from analysis.automl.fitted import FittedModel
from analysis.automl.ranking import Contender, rank_candidates

from .conftest import ExportFactory


def _space(n_rows: int, n_cols: int, task: str) -> SearchSpace:
    return SearchSpace(
        dimensions={"min_samples_leaf": int_range(1, 10, log=True)},
        init={"min_samples_leaf": 1},
        fixed={"n_estimators": 40},
        trial_cost=10.0,
        fit_overhead=0.1,
        max_trials=4,
    )


# The whole family: scikit-learn's extremely randomised trees, searched on leaf size.
EXTRA_TREES = SklearnCandidate(
    name="extra_trees",
    label="Extra Trees",
    description="An average of trees whose splits are drawn at random.",
    regressor="sklearn.ensemble.ExtraTreesRegressor",
    classifier="sklearn.ensemble.ExtraTreesClassifier",
    regressor_defaults={"n_estimators": 40},
    classifier_defaults={"n_estimators": 40},
    space=_space,
    budget_weight=1.0,
    onnx_float32=True,
    model_size_note="The trees hold {megabytes} MB for {rows} rows.",
)


@pytest.fixture
def extra_trees():
    with registered(EXTRA_TREES) as candidate:
        yield candidate
    assert EXTRA_TREES not in CANDIDATES


def test_a_family_registered_in_one_module_is_searched_ranked_exported_and_reproduced(
    extra_trees, tmp_path
):
    exports = ExportFactory(tmp_path)
    assert candidate_time_limit("extra_trees", 60, workers=2) > 0

    new = exports.get("extra_trees", "binary")
    linear = exports.get("linear", "binary")

    # Searched: its own space's first trial, scored by CV on the training part (the
    # factory's limit of a few seconds plans one trial).
    assert new.outcome.trials >= 1
    assert new.outcome.params == {"n_estimators": 40, "min_samples_leaf": 1}
    # Without a clock, the search by name runs the family's own max_trials.
    search = run_search(
        TrainingData.load(new.run_dir, new.plan), new.plan, "extra_trees", None, None, None, None
    )
    assert search.trials == 4
    assert len({t.params["min_samples_leaf"] for t in search.history}) > 1
    assert len(new.outcome.cv_scores) == new.spec.splits.cv_folds
    # Ranked beside the others, in the registry's order of simplicity.
    standings = rank_candidates(
        [
            Contender(e.family, e.outcome.cv_scores, e.outcome.charts.get("search_rows"))
            for e in (linear, new)
        ],
        new.plan.metric,
        simplicity=[c.name for c in CANDIDATES],
    )
    assert {s.name for s in standings} == {"linear", "extra_trees"}
    # Saved, loaded and served through the compiled path, with the same predictions.
    model = FittedModel.load(Path(new.outcome.model_dir))
    assert type(model.estimator).__name__ == "ExtraTreesClassifier"
    compiled = CompiledModel.load(Path(new.outcome.model_dir), model)
    holdout = new.holdout.drop(columns=[new.plan.target])
    _, expected = model.predict_encoded(holdout)
    _, served = compiled.predict_rows(holdout.to_dict("records"))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    # Exported: the spec says the estimator, and the export run as a user runs it
    # reproduces the leaderboard's holdout score.
    assert new.spec.code.model_class == "sklearn.ensemble.ExtraTreesClassifier"
    assert "The trees hold" in (new.folder / "README.md").read_text()
    reported = new.evaluation
    assert reported["score"] == pytest.approx(new.outcome.metrics[new.plan.metric], abs=1e-9)
    assert reported["rows"] == new.plan.holdout_rows
