"""XGBoost family: gradient-boosted trees with the histogram method."""

from .base import SklearnCandidate

_DEFAULTS = {
    "n_estimators": 300,
    "learning_rate": 0.1,
    "max_depth": 6,
    "subsample": 0.9,
    "tree_method": "hist",
    "n_jobs": 1,
}

XGBOOST = SklearnCandidate(
    name="xgboost",
    label="XGBoost",
    description="Gradient-boosted decision trees (XGBoost, histogram method).",
    regressor="xgboost.XGBRegressor",
    classifier="xgboost.XGBClassifier",
    regressor_defaults=_DEFAULTS,
    classifier_defaults=_DEFAULTS,
)
