"""What every candidate family provides to the search, the trainer and the code export."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EstimatorSpec:
    """A stock estimator as the export writes it: `from module import cls; cls(**kwargs)`."""

    module: str
    cls: str
    kwargs: dict[str, Any]

    def build(self):
        return getattr(importlib.import_module(self.module), self.cls)(**self.kwargs)


@dataclass(frozen=True)
class Dimension:
    """One tuned hyper-parameter: an int or float range (optionally log-scaled), or choices."""

    kind: str  # "int", "float" or "choice"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()


def int_range(low: int, high: int, *, log: bool = False) -> Dimension:
    return Dimension("int", int(low), int(max(high, low)), log)


def float_range(low: float, high: float, *, log: bool = False) -> Dimension:
    return Dimension("float", float(low), float(max(high, low)), log)


def choice(*options) -> Dimension:
    return Dimension("choice", choices=tuple(options))


@dataclass(frozen=True)
class SearchSpace:
    """Where the search looks for one family on one table.

    `init` is the first trial: cheap to fit and good on most tables (FLAML's
    `low_cost_init_value`), so even a search cut short by its time limit has a
    sensible model. `portfolio` holds the next trials, in order, before the sampler
    proposes its own: a few diverse settings that are each the best on some kinds of
    tables (as auto-sklearn 2.0 and AutoGluon start their searches), so a search of
    only a few trials has tried the likely winners rather than random points.
    `fixed` settings are passed on every trial and never tuned.
    `trial_cost` is the family's rough cost of one fit, in seconds per million
    cells (rows × columns) of training data, on top of `fit_overhead` seconds per fit;
    the search turns them into a fixed
    trial count (see search.py), so a run does not depend on how busy the machine is.
    """

    dimensions: dict[str, Dimension]
    init: dict[str, Any]
    portfolio: tuple[dict[str, Any], ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    trial_cost: float = 1.0
    fit_overhead: float = 0.02  # seconds of one fit however small the table
    min_trials: int = 1
    max_trials: int = 50
    max_folds: int = 5
    # True when the family's fits stop themselves on a clock (the LSTM), so their cost
    # does not grow with the table as the cost model says.
    clocked: bool = False

    def params(self, tuned: dict[str, Any]) -> dict[str, Any]:
        """The estimator's keyword arguments for one set of tuned values."""
        return {**self.fixed, **tuned}


@dataclass(frozen=True)
class SklearnCandidate:
    """A family whose model is one scikit-learn-compatible estimator class.

    `estimator_spec` is the single source of the model: the platform builds from it
    and the export writes it out, so both construct exactly the same estimator.
    Every tuned hyper-parameter is a constructor keyword of the estimator class.
    """

    name: str
    label: str
    description: str
    regressor: str  # "module.Class"
    classifier: str
    regressor_defaults: dict[str, Any]
    classifier_defaults: dict[str, Any]
    space: Callable[[int, int, str], SearchSpace] | None = None
    seeded: bool = True
    # XGBoost: n_estimators is found by early stopping on each CV fold's validation rows.
    early_stopping: bool = False

    def default_params(self, task: str) -> dict[str, Any]:
        defaults = self.regressor_defaults if task == "regression" else self.classifier_defaults
        return dict(defaults)

    def search_space(self, n_rows: int, n_cols: int, task: str) -> SearchSpace:
        """The search space for a training table of `n_rows` × `n_cols` (model inputs)."""
        if self.space is None:
            return SearchSpace(dimensions={}, init={}, fixed=self.default_params(task))
        return self.space(n_rows, n_cols, task)

    def estimator_spec(self, params: dict[str, Any], *, task: str, seed: int) -> EstimatorSpec:
        path = self.regressor if task == "regression" else self.classifier
        module, cls = path.rsplit(".", 1)
        kwargs = dict(params)
        if self.seeded:
            kwargs["random_state"] = seed
        return EstimatorSpec(module=module, cls=cls, kwargs=kwargs)

    def build(self, params: dict[str, Any], *, task: str, seed: int):
        return self.estimator_spec(params, task=task, seed=seed).build()
