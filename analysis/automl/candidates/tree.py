"""Decision tree family: one readable tree, depth-limited."""

from .base import SearchSpace, SklearnCandidate, float_range, int_range

_DEFAULTS = {"max_depth": 8, "min_samples_leaf": 5}


def _space(n_rows: int, n_cols: int, task: str) -> SearchSpace:
    # Deeper than about log2(rows) a tree only memorises; the depth cap keeps it readable.
    leaf = max(2, min(100, n_rows // 40))
    return SearchSpace(
        dimensions={
            "max_depth": int_range(2, 16),
            "min_samples_leaf": int_range(1, leaf, log=True),
            "max_features": float_range(0.3, 1.0),
        },
        init={"max_depth": 8, "min_samples_leaf": min(5, leaf), "max_features": 1.0},
        trial_cost=0.3,
        fit_overhead=0.01,
        max_trials=40,
    )


TREE = SklearnCandidate(
    name="decision_tree",
    label="Decision Tree",
    description="A single decision tree, limited in depth so it stays readable.",
    regressor="sklearn.tree.DecisionTreeRegressor",
    classifier="sklearn.tree.DecisionTreeClassifier",
    regressor_defaults=_DEFAULTS,
    classifier_defaults=_DEFAULTS,
    space=_space,
    budget_weight=0.5,
    onnx_float32=True,
    fit_time_note="a little\nmore for trees, whose sorting costs grow as n log n",
    model_size_note=(
        "The tree's depth limit bounds its size: the model file ({megabytes} MB here)\n"
        "stays small however many rows it learns from."
    ),
)
