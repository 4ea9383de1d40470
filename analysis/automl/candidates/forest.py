"""Random forest family."""

from .base import SklearnCandidate

_DEFAULTS = {"n_estimators": 100, "min_samples_leaf": 1, "max_features": "sqrt"}

FOREST = SklearnCandidate(
    name="random_forest",
    label="Random Forest",
    description="An average of many decision trees grown on resampled rows.",
    regressor="sklearn.ensemble.RandomForestRegressor",
    classifier="sklearn.ensemble.RandomForestClassifier",
    regressor_defaults={**_DEFAULTS, "max_features": 1.0},
    classifier_defaults=_DEFAULTS,
)
