"""Linear family: ridge regression, or logistic regression for classes."""

from .base import SearchSpace, SklearnCandidate, float_range


def _space(n_rows: int, n_cols: int, task: str) -> SearchSpace:
    if task == "regression":
        return SearchSpace(
            dimensions={"alpha": float_range(1e-4, 1e3, log=True)},
            init={"alpha": 1.0},
            trial_cost=0.05,
            max_trials=20,
        )
    return SearchSpace(
        dimensions={"C": float_range(1e-3, 1e2, log=True)},
        init={"C": 1.0},
        fixed={"max_iter": 1000},
        trial_cost=0.6,
        max_trials=20,
    )


LINEAR = SklearnCandidate(
    name="linear",
    label="Linear",
    description="Ridge regression or logistic regression on scaled, one-hot encoded features.",
    regressor="sklearn.linear_model.Ridge",
    classifier="sklearn.linear_model.LogisticRegression",
    regressor_defaults={"alpha": 1.0},
    classifier_defaults={"C": 1.0, "max_iter": 1000},
    space=_space,
    # Both solvers are deterministic and take no seed.
    seeded=False,
    # Cheap to fit: less of the budget (budget.py).
    budget_weight=0.5,
    model_size_note=(
        "The model holds one weight per model input per class ({megabytes} MB), whatever\nthe rows."
    ),
)
