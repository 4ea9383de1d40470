"""Linear family: ridge regression, or logistic regression for classes."""

from .base import SklearnCandidate

LINEAR = SklearnCandidate(
    name="linear",
    label="Linear",
    description="Ridge regression or logistic regression on scaled, one-hot encoded features.",
    regressor="sklearn.linear_model.Ridge",
    classifier="sklearn.linear_model.LogisticRegression",
    regressor_defaults={"alpha": 1.0},
    classifier_defaults={"C": 1.0, "max_iter": 1000},
    # Both solvers are deterministic and take no seed.
    seeded=False,
)
