"""The candidate families PROMISE trains, in leaderboard tie-break order (simplest first).

A family is one module defining a `Candidate` (base.py); `register` adds it here, and
everything else (search, budget, training, serving, export) reads it from this list. A
family whose export is more than a stock estimator's (base.export.j2) writes its code in
a template beside its module (lstm.export.j2, xgboost.export.j2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .base import Candidate
from .forest import FOREST
from .linear import LINEAR
from .lstm import LSTM
from .tree import TREE
from .xgboost import XGBOOST

# A list, not a tuple: every importer sees a family registered later.
CANDIDATES: list[Candidate] = [LINEAR, TREE, FOREST, XGBOOST, LSTM]


def register(candidate: Candidate) -> None:
    """Add `candidate` as the last (least simple) family; ValueError on a taken name."""
    if any(c.name == candidate.name for c in CANDIDATES):
        raise ValueError(f"A family called {candidate.name!r} is already registered.")
    CANDIDATES.append(candidate)


def unregister(name: str) -> None:
    """Remove the family called `name`."""
    CANDIDATES.remove(get_candidate(name))


@contextmanager
def registered(candidate: Candidate) -> Iterator[Candidate]:
    """`candidate` registered for the duration of a `with` block."""
    register(candidate)
    try:
        yield candidate
    finally:
        unregister(candidate.name)


def get_candidate(name: str) -> Candidate:
    """The candidate family called `name`; KeyError when there is none."""
    for candidate in CANDIDATES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
