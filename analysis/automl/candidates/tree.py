"""Decision tree family: one readable tree, depth-limited."""

from .base import SklearnCandidate

_DEFAULTS = {"max_depth": 8, "min_samples_leaf": 5}

TREE = SklearnCandidate(
    name="decision_tree",
    label="Decision Tree",
    description="A single decision tree, limited in depth so it stays readable.",
    regressor="sklearn.tree.DecisionTreeRegressor",
    classifier="sklearn.tree.DecisionTreeClassifier",
    regressor_defaults=_DEFAULTS,
    classifier_defaults=_DEFAULTS,
)
