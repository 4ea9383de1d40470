"""A second round for one candidate: continue its search in the time the first round left.

    extend_candidate(...) continue the search from search.json; when it finds a better
                          CV score, refit and score the new best into
                          candidates/<name>.second-round/ (`staged_dir`)
    adopt_extension(...)  swap it in for the first round's model
    discard_extension(...) remove it when it will not be used

second_round.py plans which candidates continue and for how long.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .discovery import (
    CandidateOutcome,
    TrainingData,
    load_search,
    refit_and_score,
    run_search,
    write_search,
)
from .metrics import higher_is_better
from .prepare import RunPlan
from .search import SearchResult


@dataclass(frozen=True)
class Extension:
    """What a second round did for one candidate (see `extend_candidate`)."""

    search: SearchResult  # both rounds' trials
    previous_cv: float | None
    # The new best refitted and scored, saved in `staged_dir`; None when the CV score
    # did not improve, and the first round's model stays.
    outcome: CandidateOutcome | None


def extend_candidate(
    run_dir: Path,
    plan: RunPlan,
    name: str,
    *,
    time_limit: float,
    progress: Callable[[int, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_finish: Callable[[], bool] | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> Extension:
    """Continue the family's search from its search.json, within `time_limit` seconds.

    The new trials search the same rows and folds (search.py, "A second round"). When
    one beats the first round's best CV score, it is refitted on all training rows and
    scored on the holdout like `train_candidate` does, and saved into `staged_dir`: the
    first round's files stay until `adopt_extension` swaps the new ones in. Otherwise
    only search.json gains the new trials. Raises FileNotFoundError without a search.json.
    """
    model_dir = run_dir / "candidates" / name
    previous = load_search(model_dir)
    data = TrainingData.load(run_dir, plan)
    started = time.monotonic()
    result = run_search(
        data,
        plan,
        name,
        time_limit,
        progress,
        should_stop,
        should_finish,
        warm_start=previous,
        interrupts=interrupts,
    )
    before, after = previous.cv_mean, result.cv_mean
    improved = before is None or (
        after is not None and (after > before if higher_is_better(plan.metric) else after < before)
    )
    if not improved:
        write_search(model_dir, result)
        return Extension(search=result, previous_cv=before, outcome=None)
    staged = staged_dir(run_dir, name)
    shutil.rmtree(staged, ignore_errors=True)  # a half-written one from a lost worker
    left = time_limit - (time.monotonic() - started)
    outcome = refit_and_score(data, plan, name, result, save_to=staged, time_left=left)
    return Extension(search=result, previous_cv=before, outcome=outcome)


def staged_dir(run_dir: Path, name: str) -> Path:
    """Where a second round saves a better model before it replaces the first's."""
    return run_dir / "candidates" / f"{name}.second-round"


def adopt_extension(run_dir: Path, name: str) -> None:
    """Put the second round's model in the place of the first's (candidates/<name>).

    Safe to call again after a worker died half-way: each step checks what is there.
    """
    model_dir = run_dir / "candidates" / name
    staged = staged_dir(run_dir, name)
    replaced = run_dir / "candidates" / f"{name}.first-round"
    if staged.exists():
        if model_dir.exists():
            shutil.rmtree(replaced, ignore_errors=True)
            model_dir.rename(replaced)
        staged.rename(model_dir)
    shutil.rmtree(replaced, ignore_errors=True)


def discard_extension(run_dir: Path, name: str) -> None:
    """Remove a second round's model that will not be used."""
    shutil.rmtree(staged_dir(run_dir, name), ignore_errors=True)
