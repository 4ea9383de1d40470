"""Random forest family.

A CV fold's forest grows its trees in batches (scikit-learn's `warm_start`, which gives
the same trees as one fit) and stops at its share of the search's clock, keeping the
trees grown so far: a costly corner of the space (many trees that each look at every
column) took three times its second round's share on a 24,000-row table before. The
folds' mean count is the trial's, so the final model is the forest that was scored.
"""

import math
import time
from dataclasses import dataclass

from .base import SearchSpace, SklearnCandidate, float_range, int_range

_DEFAULTS = {"n_estimators": 100, "min_samples_leaf": 1, "max_features": "sqrt"}


# On bigger tables each tree grows on a bootstrap sample of this many rows at most (as a
# share of the training rows, `max_samples`): the forest's cost stops growing with the
# table, and averaging many trees keeps what the smaller samples lose.
MAX_ROWS_PER_TREE = 20_000


def _space(n_rows: int, n_cols: int, task: str) -> SearchSpace:
    # The first trial is scikit-learn's well-tried default, with fewer trees on big tables.
    sqrt_share = min(1.0, max(0.1, 1 / math.sqrt(max(n_cols, 1))))
    row_share = min(1.0, MAX_ROWS_PER_TREE / max(n_rows, 1))
    return SearchSpace(
        dimensions={
            "n_estimators": int_range(50, 300 if n_rows <= 20_000 else 150, log=True),
            "max_features": float_range(0.1, 1.0),
            "min_samples_leaf": int_range(1, 20, log=True),
        },
        init={
            "n_estimators": 100 if n_rows <= 20_000 else 60,
            "max_features": sqrt_share if task != "regression" else 0.5,
            "min_samples_leaf": 1,
        },
        fixed={} if row_share == 1.0 else {"max_samples": round(row_share, 4)},
        # Measured on 2 cores: about 15 s per million cells for the space's middle trial.
        trial_cost=15.0 * row_share,
        fit_overhead=0.15,
        max_trials=25,
    )


# Trees a fold's forest grows between two looks at its clock.
TREES_PER_BATCH = 10


@dataclass(frozen=True)
class ForestCandidate(SklearnCandidate):
    """A fold's forest stops growing at its clock (module docstring)."""

    folds_stop_on_clock: bool = True

    def fit_fold(self, estimator, x, y, eval_x, eval_y, *, seconds=None) -> dict[str, int]:
        if seconds is None:
            return super().fit_fold(estimator, x, y, eval_x, eval_y)
        deadline = time.monotonic() + seconds
        wanted = estimator.n_estimators
        grown = 0
        estimator.set_params(warm_start=True)
        while grown < wanted and (not grown or time.monotonic() < deadline):
            grown = min(wanted, grown + TREES_PER_BATCH)
            estimator.set_params(n_estimators=grown).fit(x, y)
        return {"n_estimators": grown}


FOREST = ForestCandidate(
    name="random_forest",
    label="Random Forest",
    description="An average of many decision trees grown on resampled rows.",
    regressor="sklearn.ensemble.RandomForestRegressor",
    classifier="sklearn.ensemble.RandomForestClassifier",
    regressor_defaults={**_DEFAULTS, "max_features": 1.0},
    classifier_defaults=_DEFAULTS,
    space=_space,
    budget_weight=1.0,
    onnx_float32=True,
    fit_time_note="a little\nmore for trees, whose sorting costs grow as n log n",
    model_size_note=(
        "The forest's trees grow with the rows: the model file is {megabytes} MB for\n"
        "{rows} rows, so expect about {gigabytes_per_million} GB per million rows."
    ),
)
