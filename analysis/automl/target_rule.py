"""Which column PROMISE suggests as the target, and the sentence saying why.

The rule, in order:
1. a column named like a target (`TARGET_NAMES`, compared without case, spaces or
   punctuation); `y` counts only when no column is named `x` (then it is a coordinate);
2. otherwise the last column.
Neither step ever picks an identifier, a constant, an empty column, free text or a
weight-like column (a survey or sample weight says how much a row counts, not what to
predict).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .kinds import CONSTANT, EMPTY, IDENTIFIER, TEXT

TARGET_NAMES = frozenset(
    {
        "target", "label", "class", "outcome", "y", "price", "churn", "churned",
        "species", "response", "result", "diagnosis", "survived", "default",
    }
)  # fmt: skip
UNFIT_KINDS = frozenset({IDENTIFIER, CONSTANT, EMPTY, TEXT})
# weight, weights, wght, wgt, wt, fnlwgt, sample_weight, "survey weight", pweight …
_WEIGHT_LIKE = re.compile(r"(^|_)(\w*weights?|wg?ht|wgt|wt|\w*wgt)$")


@dataclass(frozen=True)
class TargetSuggestion:
    column: str
    reason: str


def normalised(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def is_weight_like(name: str) -> bool:
    return bool(_WEIGHT_LIKE.search(normalised(name)))


def suggest_target(columns: list[dict]) -> TargetSuggestion | None:
    """The suggestion for a profile's `columns` (each a dict with "name" and "kind")."""
    names = {normalised(c["name"]) for c in columns}
    fit = [
        c["name"]
        for c in columns
        if c.get("kind") not in UNFIT_KINDS and not is_weight_like(c["name"])
    ]
    for name in fit:
        key = normalised(name)
        if key in TARGET_NAMES and not (key == "y" and "x" in names):
            return TargetSuggestion(name, f"its name, “{name}”, is a usual name for a target")
    if fit:
        return TargetSuggestion(
            fit[-1],
            "it is the last column that is not an identifier, a weight, a constant or free text",
        )
    return None
