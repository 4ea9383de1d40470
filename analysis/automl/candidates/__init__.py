"""The five candidate families PROMISE trains, in leaderboard tie-break order (simplest first)."""

from .forest import FOREST
from .linear import LINEAR
from .lstm import LSTM
from .tree import TREE
from .xgboost import XGBOOST

CANDIDATES = (LINEAR, TREE, FOREST, XGBOOST, LSTM)
BY_NAME = {candidate.name: candidate for candidate in CANDIDATES}


def get_candidate(name: str):
    """The candidate family called `name`; KeyError when there is none."""
    return BY_NAME[name]
