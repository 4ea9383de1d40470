import inspect

import numpy as np
import pytest

from analysis.automl.candidates import CANDIDATES
from analysis.automl.candidates.base import SklearnCandidate

TASKS = ["regression", "binary", "multiclass"]
SKLEARN = [c for c in CANDIDATES if isinstance(c, SklearnCandidate)]


def within(dimension, value) -> bool:
    if dimension.kind == "choice":
        return value in dimension.choices
    return dimension.low <= value <= dimension.high


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("candidate", CANDIDATES, ids=lambda c: c.name)
@pytest.mark.parametrize(("rows", "cols"), [(50, 3), (100_000, 200)])
def test_the_first_trial_lies_inside_the_space(candidate, task, rows, cols):
    space = candidate.search_space(rows, cols, task)

    assert set(space.init) == set(space.dimensions)
    for name, value in space.init.items():
        assert within(space.dimensions[name], value), name


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("candidate", SKLEARN, ids=lambda c: c.name)
def test_every_tuned_setting_is_a_constructor_argument(candidate, task):
    space = candidate.search_space(500, 10, task)
    spec = candidate.estimator_spec(space.params(space.init), task=task, seed=1)
    cls = type(spec.build())

    accepted = set(inspect.signature(cls.__init__).parameters) | set(cls().get_params())
    assert set(spec.kwargs) <= accepted


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("candidate", SKLEARN, ids=lambda c: c.name)
def test_it_fits_and_predicts_tiny_data(candidate, task):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = x[:, 0] if task == "regression" else (x[:, 0] > 0).astype(int)
    if task == "multiclass":
        y = np.digitize(x[:, 0], [-0.5, 0.5])
    space = candidate.search_space(60, 4, task)

    model = candidate.build_estimator(space.params(space.init), task=task, seed=1).fit(x, y)

    assert model.predict(x).shape == (60,)


def test_a_forest_on_a_big_table_grows_each_tree_on_a_bounded_sample():
    from analysis.automl.candidates.forest import FOREST, MAX_ROWS_PER_TREE

    small = FOREST.search_space(MAX_ROWS_PER_TREE, 20, "regression")
    big = FOREST.search_space(4 * MAX_ROWS_PER_TREE, 20, "regression")

    assert "max_samples" not in small.fixed
    assert big.fixed["max_samples"] == 0.25
    assert big.trial_cost == small.trial_cost / 4
    forest = FOREST.build_estimator(big.params(big.init), task="regression", seed=0)
    assert forest.max_samples == 0.25


@pytest.mark.parametrize("candidate", CANDIDATES, ids=lambda c: c.name)
def test_every_family_is_one_candidate_that_builds_a_pipeline(candidate):
    from sklearn.pipeline import Pipeline

    from analysis.automl.candidates.base import Candidate
    from analysis.automl.preprocess import FeatureSpec

    features = FeatureSpec(numeric=["a", "b"], categorical=[], datetime=[])
    space = candidate.search_space(100, 2, "regression")

    pipeline = candidate.build(
        space.params(space.init), features=features, task="regression", seed=0
    )

    assert isinstance(candidate, Candidate)
    assert isinstance(pipeline, Pipeline)
    assert list(pipeline.named_steps) == ["prepare", "preprocess", "model"]
    assert candidate.budget_weight > 0
    assert candidate.model_file.startswith("model.")


def test_a_family_registers_once_and_leaves_with_its_block():
    from analysis.automl.candidates import get_candidate, register, registered
    from analysis.automl.candidates.linear import LINEAR

    extra = SklearnCandidate(
        name="knn",
        label="Nearest neighbours",
        description="The mean of the nearest rows.",
        regressor="sklearn.neighbors.KNeighborsRegressor",
        classifier="sklearn.neighbors.KNeighborsClassifier",
        regressor_defaults={},
        classifier_defaults={},
        seeded=False,
    )

    with pytest.raises(ValueError, match="already registered"):
        register(LINEAR)
    with registered(extra):
        assert CANDIDATES[-1] is extra
        assert get_candidate("knn") is extra
    assert extra not in CANDIDATES
    with pytest.raises(KeyError):
        get_candidate("knn")
