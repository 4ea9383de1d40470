"""When a search has converged: the rule that says more trials are not worth the time.

A second round (second_round.py) continues only the searches that have not converged,
and the run page states the rule when every search had.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Scored(Protocol):
    """A trial as the rule sees it (search.TrialRecord): its CV score, None when it failed."""

    score: float | None


T = TypeVar("T", bound=Scored)

# A search whose last PLATEAU_TRIALS trials raised its best CV score by no more than
# PLATEAU_GAIN of that score has converged: more trials are not worth the time.
PLATEAU_TRIALS = 5
PLATEAU_GAIN = 0.001


def converged_by(
    history: Sequence[Scored], *, max_trials: int, tunable: bool, maximize: bool
) -> str:
    """Why a search with this `history` cannot improve any more, or "" when it still can.

    The rule (CONVERGENCE_RULE): nothing to tune, all of the family's `max_trials`
    ran, or the last PLATEAU_TRIALS trials raised the best CV score by no more than
    PLATEAU_GAIN of it.
    """
    if not tunable:
        return "nothing to tune"
    if len(history) >= max_trials:
        return f"all {max_trials} trials ran"
    if len(history) > PLATEAU_TRIALS:
        before = best_trial(history[:-PLATEAU_TRIALS], maximize)
        after = best_trial(history, maximize)
        if before is not None and after is not None:
            gain = after.score - before.score if maximize else before.score - after.score
            if gain <= PLATEAU_GAIN * abs(before.score):
                return f"the last {PLATEAU_TRIALS} trials did not improve it"
    return ""


CONVERGENCE_RULE = (
    "a search has converged when it has nothing to tune, ran its family's most trials, "
    f"or its last {PLATEAU_TRIALS} trials raised its best cross-validated score by no more "
    f"than {PLATEAU_GAIN:.1%}"
)


def best_trial(history: Sequence[T], maximize: bool) -> T | None:
    """The first of the best-scored trials, as the search loop keeps it."""
    best = None
    for record in history:
        if record.score is not None and (
            best is None or (record.score > best.score if maximize else record.score < best.score)
        ):
            best = record
    return best
