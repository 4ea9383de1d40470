"""What every candidate family provides to the search, the trainer and the code export."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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


class Candidate:
    """One model family: everything the search, the trainer, serving and the export know of it.

    A family is one module that defines a Candidate (or a SklearnCandidate) and registers
    it (candidates/__init__.py). Subclasses set the attributes and `search_space`,
    `build_estimator` and `export_code` (SklearnCandidate has all three); the hooks below
    have the behaviour of a plain scikit-learn estimator.
    """

    name: str
    label: str
    description: str
    # Relative share of the run's budget (budget.py): cheap families get less.
    budget_weight: float = 1.0
    # Packages the export pins beyond the base ones; each entry lists the names the
    # package may be installed under, the preferred first.
    packages: tuple[tuple[str, ...], ...] = ()
    # The file `save_export` writes the fitted estimator to, which the export ships.
    model_file: str = "model.joblib"
    # The share of its training rows a fit holds out for itself (the LSTM's early
    # stopping); None when it holds out none (search.py, 4.).
    validation_split: float | None = None
    # ONNX reads float32 inputs (trees compare float32 thresholds), else float64.
    onnx_float32: bool = False
    # True when `fit_fold` keeps a CV fold's fit within its seconds (XGBoost, the random
    # forest, the LSTM), so a trial can be cut to the time left (search.py's last trial
    # of a second round).
    folds_stop_on_clock: bool = False
    # README sentences: what a fit's time adds to linear growth, and what sets the model
    # file's size (str.format fields: megabytes, gigabytes_per_million, rows).
    fit_time_note: str = ""
    model_size_note: str = ""

    def search_space(self, n_rows: int, n_cols: int, task: str) -> SearchSpace:
        raise NotImplementedError

    def build_estimator(self, params: dict[str, Any], *, task: str, seed: int):
        """The unfitted estimator for `params` (the Pipeline's last step)."""
        raise NotImplementedError

    def build(self, params: dict[str, Any], *, features, task: str, seed: int):
        """The unfitted scikit-learn Pipeline for `params`: preprocessing, then the estimator."""
        from ..preprocess import build_preprocessor

        return assemble(
            features,
            build_preprocessor(features, task, seed),
            self.build_estimator(params, task=task, seed=seed),
        )

    def settle(self, estimator) -> None:
        """Make a fitted `estimator`'s parameters the settings that train it again, before
        it is saved (the LSTM: the epochs it ran, no clock); the others already are."""

    def set_clock(self, estimator, seconds: float | None) -> None:
        """Bound a fit of `estimator` to `seconds`; only families whose fits can stop
        themselves on a clock do anything (the LSTM, XGBoost's CV folds; the forest's
        folds stop in `fit_fold`)."""

    def fold_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters one CV fold fits with (early stopping widens them)."""
        return params

    def fit_fold(
        self, estimator, x, y, eval_x, eval_y, *, seconds: float | None = None
    ) -> dict[str, int]:
        """Fit `estimator` on one fold's training rows, within `seconds` where its fits can
        stop on a clock (`set_clock`); returns the settings it learned on the fold's
        validation rows (`eval_x`, `eval_y`) or on its clock, which the folds average."""
        self.set_clock(estimator, seconds)
        estimator.fit(x, y)
        return {}

    def save_export(self, estimator, directory: Path) -> Path:
        """Write the fitted `estimator` as the export ships it (`model_file`, which the
        exported scripts load with stock libraries only); returns its path."""
        import joblib

        path = directory / self.model_file
        joblib.dump(estimator, path)
        return path

    def to_onnx(self, estimator, n_inputs: int, *, task: str) -> bytes:
        """The fitted estimator as ONNX bytes (skl2onnx); raises when it cannot be."""
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

        tensor = FloatTensorType if self.onnx_float32 else DoubleTensorType
        options = None if task == "regression" else {id(estimator): {"zipmap": False}}
        graph = convert_sklearn(
            estimator,
            initial_types=[("X", tensor([None, n_inputs]))],
            options=options,
            target_opset=ONNX_OPSET,
        )
        return graph.SerializeToString()

    def fast_function(self, estimator):
        """A function of preprocessed inputs to the network's output when serving calls the
        estimator's own network directly instead of ONNX; None for the others."""
        return None

    def export_code(self, params: dict[str, Any], *, task: str, seed: int, model_inputs: int):
        """The family's own part of the exported code and README, for the model of `params`
        that reads `model_inputs` preprocessed columns: an `exporters.spec.ModelCode`,
        usually written by a template beside the family's module (see `model_code`)."""
        raise NotImplementedError


ONNX_OPSET = {"": 17, "ai.onnx.ml": 3}
# main()'s training in an exported train.py: on the rows of --data, or on the sample of
# them that --sample-size asks for. Every family's code templates are given it.
TRAIN_ON_ROWS = "model = train(load_rows(args.data, args.sample_size, args.chunksize))"


def export_parts(template: str, **context) -> dict[str, Any]:
    """The parts of an `exporters.spec.ModelCode` that the code template `template`
    (a file beside this module) writes, one `{% set %}` per part, rendered with `context`
    and `train_on_rows` (TRAIN_ON_ROWS) by the exporter's own Jinja2 environment: its
    `pyrepr` and `pykwargs` filters write values as literals."""
    from exporters import render_parts

    path = Path(__file__).with_name(template)
    return render_parts(path, train_on_rows=TRAIN_ON_ROWS, **context)


def model_code(template: str, *, model_class: str, hyper_parameters: dict[str, Any], **context):
    """The `exporters.spec.ModelCode` that the code template `template` writes (see
    `export_parts`); main() trains on the rows (TRAIN_ON_ROWS) unless it says otherwise."""
    from exporters.spec import ModelCode

    parts = {"command": TRAIN_ON_ROWS, **export_parts(template, **context)}
    return ModelCode(model_class=model_class, hyper_parameters=hyper_parameters, **parts)


def assemble(features, preprocessor, estimator):
    """The Pipeline of a candidate: the table's own columns in, a prediction out.

    `prepare` turns the feature columns into model columns (numbers, date parts, category
    text: preprocess.prepare_frame), `preprocess` imputes, scales and encodes them, and
    `model` is the family's estimator. Taking the table's columns is what lets scikit-learn's
    permutation importance shuffle the columns the user knows, a date as one column.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from ..preprocess import prepare_frame

    prepare = FunctionTransformer(prepare_frame, kw_args={"spec": features})
    return Pipeline([("prepare", prepare), ("preprocess", preprocessor), ("model", estimator)])


@dataclass(frozen=True)
class SklearnCandidate(Candidate):
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
    budget_weight: float = 1.0
    packages: tuple[tuple[str, ...], ...] = ()
    onnx_float32: bool = False
    fit_time_note: str = ""
    model_size_note: str = ""

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

    def build_estimator(self, params: dict[str, Any], *, task: str, seed: int):
        return self.estimator_spec(params, task=task, seed=seed).build()

    def export_code(self, params: dict[str, Any], *, task: str, seed: int, model_inputs: int):
        """The estimator's export (base.export.j2): `build_estimator()` writes its class
        with every keyword argument, and joblib saves and loads it."""
        estimator = self.estimator_spec(params, task=task, seed=seed)
        return model_code(
            "base.export.j2",
            model_class=f"{estimator.module}.{estimator.cls}",
            hyper_parameters=dict(estimator.kwargs),
            estimator=estimator,
            task=task,
            model_file=self.model_file,
        )
