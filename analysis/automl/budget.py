"""The time budget: how a run's seconds are shared among the candidates, and how one
search plans its trials and rows within its share, by each family's cost model.

How the run's time budget is shared (`candidate_time_limit`)
    The candidates train side by side on `workers` processes. What is left of the run's
    budget after sampling is multiplied by `workers` (the processes run at once) and by
    TRAINING_SHARE (room for queueing, ranking and insights), and shared in proportion to
    each family's `budget_weight` (candidates/): the cheap linear model and single tree
    get less, the boosted trees and the forest more. With two workers and the family
    order of the chord, the busiest worker ends within the budget even when every
    candidate uses all of its share.

How a search plans within its limit (used by search.py)
    SEARCH_SHARE of a candidate's limit is for CV trials, less when the final fit on all
    rows needs more (`search_seconds`). The number of trials is fixed before the search
    starts, from the table's shape, the family's cost per cell and the limit
    (`trial_count`), so the same seed, data and budget give the same trials. A table too
    big for one trial beside the final fit is searched on fewer rows (`search_rows`).
"""

from __future__ import annotations

from .candidates import CANDIDATES, get_candidate
from .candidates.base import SearchSpace

# Share of the run's budget the candidates' searches get; the rest covers the queue,
# sampling hand-over, ranking and insights.
TRAINING_SHARE = 0.85
# The busier worker of two (the single tree, then XGBoost: 2.7 of the five families'
# 5.0 budget weights) uses 92% of the budget when every candidate uses all of its share.
# Share of a candidate's own limit planned for search trials; the rest is for the final
# fit on the whole training part, the holdout scores, importance and chart data.
SEARCH_SHARE = 0.7
# Share of the limit kept free for the holdout scores, importance and saving the model.
AFTER_SEARCH = 0.05
SMALL_TABLE_ROWS = 5000
# Fewest rows a search is cut down to when the table is too big for its time limit.
MIN_SEARCH_ROWS = 2000
# A continued search whose folds stop on a clock starts a last trial while this share of
# a typical trial is left before its fits must end (`last_trial_fits`).
LAST_TRIAL_SHARE = 0.5


def candidate_time_limit(name: str, budget_seconds: float, *, workers: int = 2) -> float:
    """Seconds of search and final fit for candidate `name` out of the run's training budget."""
    total = sum(candidate.budget_weight for candidate in CANDIDATES)
    weight = get_candidate(name).budget_weight
    share = budget_seconds * TRAINING_SHARE * max(workers, 1) * weight / total
    return max(1.0, min(share, budget_seconds * TRAINING_SHARE))


def fold_count(n_rows: int, space: SearchSpace) -> int:
    """Five folds on small tables, three on larger ones, never more than the family allows."""
    folds = 5 if n_rows < SMALL_TABLE_ROWS else 3
    return max(2, min(folds, space.max_folds))


def search_seconds(space: SearchSpace, *, n_rows: int, n_cols: int, time_limit: float) -> float:
    """Seconds of the limit for CV trials: SEARCH_SHARE of it, less if the final fit needs more.

    The final fit on all `n_rows` rows is planned first, by the family's cost model
    (seconds per million cells, `trial_cost`, plus `fit_overhead`), except for families
    whose fits stop on a clock.
    """
    if space.clocked:
        return SEARCH_SHARE * time_limit
    final_fit = space.trial_cost * n_rows * max(n_cols, 1) / 1e6 + space.fit_overhead
    return min(SEARCH_SHARE * time_limit, (1 - AFTER_SEARCH) * time_limit - final_fit)


def refit_room(
    trial_seconds: float, *, folds: int, time_limit: float, refit_seconds: float | None = None
) -> float:
    """Seconds to keep after a search for its final fit, with half again to spare, plus
    AFTER_SEARCH of the limit. The fit is the one a first round measured (`refit_seconds`)
    when a second round continues it; else it is told from a typical trial's seconds: a
    fit on all rows costs about one of the trial's `folds` fits on (folds-1)/folds of them."""
    if refit_seconds is None:
        refit_seconds = trial_seconds / max(folds - 1, 1)
    return refit_seconds * 1.5 + AFTER_SEARCH * time_limit


def fits_end(
    started: float,
    time_limit: float,
    *,
    typical_trial: float | None,
    folds: int,
    refit_seconds: float | None = None,
) -> float:
    """When the fits that stop on a clock (XGBoost's folds, the LSTM) must end.

    A first search keeps SEARCH_SHARE of its limit for them, since it does not know its
    final fit yet. A continued search (a second round) knows a typical trial, so its
    fits may run on until only the room its final fit needs is left (`refit_room`):
    the share's rest would otherwise go unused, on a budget that has nothing else to
    give it to.
    """
    end = started + SEARCH_SHARE * time_limit
    if typical_trial is None:
        return end
    room = refit_room(
        typical_trial, folds=folds, time_limit=time_limit, refit_seconds=refit_seconds
    )
    return max(end, started + time_limit - room)


def last_trial_fits(now: float, fit_deadline: float, *, typical_trial: float) -> bool:
    """Whether a continued search of a family whose CV folds stop on a clock may start one
    more trial: while LAST_TRIAL_SHARE of a typical trial is left before its folds must
    end (where the final fit's room begins), they share what is left. A trial cut short
    may score lower; the search keeps its best trial, whichever it is."""
    return fit_deadline - now >= LAST_TRIAL_SHARE * typical_trial


def _trial_seconds(space: SearchSpace, *, n_rows: int, n_cols: int, folds: int) -> float:
    """One trial by the cost model: `folds` fits on (folds-1)/folds of the rows."""
    cells = n_rows * (folds - 1) / folds * max(n_cols, 1)
    return folds * (space.trial_cost * cells / 1e6 + space.fit_overhead)


def search_rows(
    space: SearchSpace, *, n_rows: int, n_cols: int, folds: int, seconds: float | None
) -> int:
    """How many of the `n_rows` training rows the CV search uses (see the module docstring):
    all of them, or as many as let one trial fit in `seconds`, never under MIN_SEARCH_ROWS."""
    if seconds is None or space.clocked or not space.dimensions:
        return n_rows
    # _trial_seconds solved for the rows: folds × (trial_cost × cells / 1e6 + fit_overhead).
    per_row = space.trial_cost * (folds - 1) * max(n_cols, 1) / 1e6
    fitting = (seconds - folds * space.fit_overhead) / per_row
    return int(min(n_rows, max(MIN_SEARCH_ROWS, fitting)))


def trial_count(
    space: SearchSpace, *, n_rows: int, n_cols: int, folds: int, seconds: float | None
) -> int:
    """How many trials fit in `seconds` (`search_seconds`), by the family's cost model.

    The count depends only on the table's shape and the limit, so it is the same on
    every rerun.
    """
    if not space.dimensions:
        return 1
    if seconds is None:
        return space.max_trials
    per_trial = _trial_seconds(space, n_rows=n_rows, n_cols=n_cols, folds=folds)
    fitting = int(seconds / per_trial)
    return max(space.min_trials, min(space.max_trials, fitting))
