"""What every candidate family provides to the search, the trainer and the code export."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
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
class SklearnCandidate:
    """A family whose model is one scikit-learn-compatible estimator class.

    `estimator_spec` is the single source of the model: the platform builds from it
    and the export writes it out, so both construct exactly the same estimator.
    """

    name: str
    label: str
    description: str
    regressor: str  # "module.Class"
    classifier: str
    regressor_defaults: dict[str, Any]
    classifier_defaults: dict[str, Any]
    seeded: bool = True

    def default_params(self, task: str) -> dict[str, Any]:
        defaults = self.regressor_defaults if task == "regression" else self.classifier_defaults
        return dict(defaults)

    def estimator_spec(self, params: dict[str, Any], *, task: str, seed: int) -> EstimatorSpec:
        path = self.regressor if task == "regression" else self.classifier
        module, cls = path.rsplit(".", 1)
        kwargs = dict(params)
        if self.seeded:
            kwargs["random_state"] = seed
        return EstimatorSpec(module=module, cls=cls, kwargs=kwargs)

    def build(self, params: dict[str, Any], *, task: str, seed: int):
        return self.estimator_spec(params, task=task, seed=seed).build()
