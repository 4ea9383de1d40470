"""The reproducibility record of an export: which file, read how, sampled how, split how.

config.json holds it under "reproducibility" (`reproducibility_record`); the README
states it in words (`readme_phrases`) and as the code that cuts the same holdout and
CV folds from the same sample (`split_code`). The rules described are PROMISE's:
prepare.prepare_run's holdout and folds.cv_splits' folds; tests/export checks that
the code gives the very rows discovery used.
"""

from __future__ import annotations

from typing import Any

from .spec import ExportSpec

# How the sampled rows are ordered, which the holdout split starts from.
_SAMPLE_ORDER = {
    "random": "by seeded random key",
    "stratified": "by seeded random key",
    "time_based": "oldest first",
}


def reproducibility_record(spec: ExportSpec) -> dict[str, Any]:
    """What config.json records under "reproducibility": the file, how it was read and
    sampled, how the holdout and the CV folds were cut, and the versions discovery ran on.

    `rebuild_splits` is the Python code (see `split_code`) that cuts the same holdout
    and folds from the same sample.
    """
    sample, splits, source = spec.sample, spec.splits, spec.source
    seeded = splits.holdout != "latest"
    cross_validated = bool(splits.cv_folds)
    shuffled = splits.cv_splitter in ("StratifiedKFold", "KFold")
    return {
        "data_file": None
        if source is None
        else {
            "name": source.name,
            "size_bytes": source.size_bytes,
            "sha256": source.sha256,
            "read_options": source.read_options,
            "overrides": source.overrides,
            "renamed_columns": source.renamed,
        },
        "sampling": {
            "strategy": sample.strategy,
            "seed": spec.seed,
            "sampled": sample.sampled,
            "sample_rows": sample.sample_rows,
            "usable_rows": sample.usable_rows,
            "total_rows": sample.total_rows,
            "time_column": sample.time_column,
            "order": _SAMPLE_ORDER.get(sample.strategy),
        },
        "holdout": {
            "method": splits.holdout,
            "share": splits.holdout_share,
            "random_state": spec.seed if seeded else None,
            "stratified_by_target": splits.holdout == "stratified",
            "train_rows": sample.train_rows,
            "holdout_rows": sample.holdout_rows,
        },
        "cross_validation": {
            "splitter": splits.cv_splitter or None,
            "n_splits": splits.cv_folds,
            "shuffle": shuffled if cross_validated else None,
            "random_state": spec.seed if shuffled else None,
            "rows": splits.cv_rows,
            "subset": _cv_subset(spec),
            "drawn_rows": splits.cv_drawn,
            "quick_cv": splits.quick_cv,
            "metric": spec.metric,
            "fold_scores": splits.cv_scores,
        },
        "rebuild_splits": split_code(spec),
        "python": spec.python_version,
        "packages_at_discovery": spec.discovery_packages,
        "requirements": spec.packages,
    }


def _cv_subset(spec: ExportSpec) -> str | None:
    """How the search chose its rows when it used fewer than the whole training part."""
    splits = spec.splits
    if not splits.cv_folds or splits.cv_rows is None or splits.cv_rows >= spec.sample.train_rows:
        return None
    return "latest" if splits.holdout == "latest" else "seeded"


def split_code(spec: ExportSpec) -> str:
    """Python that cuts discovery's holdout and CV folds from `sample`, for the README.

    `sample` is the sample as PROMISE drew it, in its order (`reproducibility_record`'s
    "sampling"); `features` is the export's features.py. Every value in the code is a
    number of the spec or a fixed name, nothing a user typed. Arguments go one per line
    with a trailing comma, so the code is as `ruff format` leaves it whatever the seed.
    """
    splits, seed = spec.splits, spec.seed
    stdlib, third_party, model_selection, body = [], [], [], []
    if splits.holdout == "latest":
        stdlib.append("import math")
        body += [
            "# The latest rows of the time-ordered sample are the holdout.",
            f"cut = len(sample) - math.ceil(len(sample) * {splits.holdout_share!r})",
            "train, holdout = sample.iloc[:cut], sample.iloc[cut:]",
        ]
    else:
        model_selection.append("train_test_split")
        stratify = []
        if splits.holdout == "stratified":
            stratify = ["    stratify=sample[features.TARGET].astype(str),"]
        body += [
            "train, holdout = train_test_split(",
            "    sample,",
            f"    test_size={splits.holdout_share!r},",
            f"    random_state={seed!r},",
            *stratify,
            ")",
        ]
    subset = _cv_subset(spec)
    if subset == "seeded" and splits.cv_drawn is None:
        body += [
            f"# The search used {splits.cv_rows} seeded training rows, drawn before",
            "# their number was recorded: its folds cannot be cut again.",
        ]
    elif splits.cv_folds:
        model_selection.append(splits.cv_splitter)
        body.append("y = features.encode_target(train[features.TARGET])")
        if subset == "seeded":
            third_party.append("import numpy as np")
        body += _subset_code(spec)
        # A cut-down search's folds are positions in its own rows, `searched`.
        rows = "searched" if subset else "train"
        body += [f"splitter = {_splitter_call(spec)}", f"folds = list(splitter.split({rows}, y))"]
    else:
        note = "not recorded" if splits.cv_folds is None else "none, the model was fitted once"
        body.append(f"# Cross-validation folds: {note}.")
    if model_selection:
        # isort's order: classes (CapWords) before functions, which str sorting gives.
        names = ", ".join(sorted(model_selection))
        third_party.append(f"from sklearn.model_selection import {names}")
    own = ["import features"] if any("features." in line for line in body) else []
    blocks = [block for block in (stdlib, third_party, own) if block]
    lines = [line for block in blocks for line in [*block, ""]]
    return "\n".join([*lines, *body]) + "\n"


def _splitter_call(spec: ExportSpec) -> str:
    """The scikit-learn splitter folds.cv_splits built, as a call."""
    splits = spec.splits
    if splits.cv_splitter == "TimeSeriesSplit":
        return f"TimeSeriesSplit(n_splits={splits.cv_folds})"
    arguments = f"n_splits={splits.cv_folds}, shuffle=True, random_state={spec.seed!r}"
    return f"{splits.cv_splitter}({arguments})"


def _subset_code(spec: ExportSpec) -> list[str]:
    """Lines that cut the training part to the rows a cut-down search used (search.py)."""
    splits, subset = spec.splits, _cv_subset(spec)
    if subset is None:
        return []
    if subset == "latest":
        return [
            f"# The search used the latest {splits.cv_rows} training rows.",
            f"searched, y = train.iloc[-{splits.cv_rows}:], y[-{splits.cv_rows}:]",
        ]
    kept = ", plus each class's first rows" if spec.is_classification else ""
    lines = [
        f"# The search used {splits.cv_drawn} seeded training rows{kept}.",
        f"keep = np.random.default_rng({spec.seed!r}).choice(len(y), {splits.cv_drawn}, "
        "replace=False)",
    ]
    if spec.is_classification:
        lines += [
            "for label in np.unique(y):",
            f"    keep = np.union1d(keep, np.flatnonzero(y == label)[:{splits.cv_folds}])",
        ]
    return [*lines, "keep = np.sort(keep)", "searched, y = train.iloc[keep], y[keep]"]


_SAMPLING = {
    "random": "random sampling",
    "stratified": "stratified sampling (every class keeps its share)",
    "time_based": "time-based sampling, the most recent rows",
}
_ORDER_PHRASES = {
    "random": "in the order of their seeded random keys",
    "stratified": "in the order of their seeded random keys",
    "time_based": "oldest first",
}


def readme_phrases(spec: ExportSpec) -> dict[str, str]:
    """The record's sentences for README.md; none holds text a user typed."""
    splits = spec.splits
    share = f"{splits.holdout_share * 100:g}%"
    if splits.holdout == "latest":
        holdout = f"the latest {share} of the sample (rounded up)"
    else:
        stratify = ", stratify=sample[target].astype(str)" if splits.holdout == "stratified" else ""
        holdout = (
            f"a seeded random {share}"
            + (" stratified by class" if stratify else "")
            + f", scikit-learn's `train_test_split(sample, test_size={splits.holdout_share!r}, "
            f"random_state={spec.seed!r}{stratify})`"
        )
    return {
        "sample_phrase": _SAMPLING.get(spec.sample.strategy, f"{spec.sample.strategy} sampling"),
        "order_phrase": _ORDER_PHRASES.get(spec.sample.strategy, "in the order drawn"),
        "holdout_phrase": holdout,
        "cv_phrase": _cv_phrase(spec),
    }


def _cv_phrase(spec: ExportSpec) -> str:
    splits = spec.splits
    if splits.cv_folds is None:
        return "not recorded with this export."
    if not splits.cv_folds:
        return (
            "none: the time left could not cover one cross-validated trial, so the "
            "first trial's parameters were fitted once."
        )
    call = _splitter_call(spec)
    labels = " over the class indices (the order of the classes)" if spec.is_classification else ""
    scores = ", ".join(f"{score:.4g}" for score in splits.cv_scores)
    metric = spec.metric_labels.get(spec.metric, spec.metric)
    text = (
        f"{splits.cv_folds} folds of the training rows, scikit-learn's `{call}`{labels}; "
        f"the chosen hyper-parameters scored {scores} ({metric}) on them."
    )
    if splits.quick_cv:
        text = "a quick CV, as the time limit was too short for the usual one: " + text
    subset = _cv_subset(spec)
    if subset == "latest":
        text += f" The search used the latest {splits.cv_rows} of the training rows."
    elif subset == "seeded":
        text += f" The search used a seeded subset of {splits.cv_rows} of the training rows."
    return text
