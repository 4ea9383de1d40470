"""The second round: the time the first round left goes to searches that can still improve.

Candidates that finish early (a linear model's few trials, a search that converged)
leave part of the run's budget unused. Once every first-round search has ended, the
time left until the second round's end (ROUND_END of the budget) is planned here:

1. Searches that converged (search.py's `converged_by`, stated in CONVERGENCE_RULE) are
   not continued, nor failed candidates. Candidates out of reach of the leader (their
   CV score is further behind the best one than their whole first search gained, best
   trial against first, plus twice their folds' spread, so one more round of the same
   search would not make them the recommended model: `out_of_reach`) come last: they
   only get a process the others leave idle, closest to the leader first.
2. The others are spread over the `workers` processes, heaviest `budget_weight` first onto
   the least loaded one, and each process's seconds are shared by weight among the
   candidates it runs, one after the other.
3. While a share cannot hold one more typical trial of the candidate and a refit like
   its first (with MARGIN), the candidate furthest from it is left out and the
   shares are planned again without it, so its time goes to the others.

Each continued search (extension.extend_candidate) keeps its first-round result unless
its CV score improves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .candidates import get_candidate
from .convergence import CONVERGENCE_RULE
from .search import SearchResult

# The second round ends at this share of the run's budget after the run started; the
# rest is for handing over between tasks, ranking and insights (together well under a
# second on the 100,000-row table, benchmarks/run_speed.py), and for the searches'
# safety stop, which ends a continued search a trial early rather than late.
ROUND_END = 0.98
# A share must hold one more trial and the refit with this much room to spare.
MARGIN = 1.2
# The run page explains an early end only when more than this share of the budget was left.
UNUSED_WORTH_SAYING = 0.1


@dataclass(frozen=True)
class FirstRound:
    """What the plan needs to know of one candidate's first search."""

    name: str
    label: str
    converged: str  # why it cannot improve, "" when it can (search.converged_by)
    trial_seconds: float  # a typical trial of it
    refit_seconds: float  # its final fit on all training rows
    # Its CV score, its folds' spread and its search's gain (best trial's score against
    # the first scored one's), signed so that higher is better; None: no CV score.
    score: float | None = None
    spread: float = 0.0
    gain: float = 0.0

    @classmethod
    def of(
        cls,
        name: str,
        label: str,
        search: SearchResult,
        *,
        refit_seconds: float,
        maximize: bool = True,
    ):
        """From a stored search; its trials' median is the typical one (the first trial of
        a process is often the slowest: it warms the process up). `maximize`: whether the
        run's metric is better higher."""
        seconds = [t.seconds for t in search.history]
        sign = 1.0 if maximize else -1.0
        scored = [t.score for t in search.history if t.score is not None]
        return cls(
            name=name,
            label=label,
            converged=search.converged,
            trial_seconds=float(np.median(seconds)) if seconds else 0.0,
            refit_seconds=refit_seconds,
            score=None if search.cv_mean is None else sign * search.cv_mean,
            spread=search.cv_std or 0.0,
            gain=max(sign * s for s in scored) - sign * scored[0] if scored else 0.0,
        )


@dataclass(frozen=True)
class SecondRoundPlan:
    """Seconds per continued candidate, in the order to send them, and why the others
    are not continued."""

    seconds_left: float
    seconds: dict[str, float] = field(default_factory=dict)
    converged: dict[str, str] = field(default_factory=dict)
    out_of_reach: list[str] = field(default_factory=list)
    too_slow: list[str] = field(default_factory=list)
    sentence: str = ""  # for the run page when the budget was left unused

    def to_dict(self) -> dict:
        return {
            "seconds_left": round(self.seconds_left, 1),
            "seconds": {name: round(s, 1) for name, s in self.seconds.items()},
            # A JSON object's key order is not kept by every database (PostgreSQL's
            # jsonb sorts keys), so the order to send them in is stored as a list.
            "order": list(self.seconds),
            "converged": self.converged,
            "out_of_reach": self.out_of_reach,
            "too_slow": self.too_slow,
            "sentence": self.sentence,
        }


def plan_second_round(
    first: list[FirstRound], *, seconds_left: float, budget: float, workers: int = 2
) -> SecondRoundPlan:
    """Share `seconds_left` among the candidates of `first` whose search can still improve
    (module docstring); `budget` is the run's, for the sentence about unused time."""
    converged = {c.name: c.converged for c in first if c.converged}
    behind = out_of_reach(first)
    open_ = [c for c in first if not c.converged and c.name not in behind]
    too_slow: list[str] = []
    while True:
        seconds = _shares(open_, seconds_left, workers)
        slow = [c for c in open_ if seconds[c.name] < _needed(c)]
        if not slow:
            break
        # One at a time, the furthest from fitting first: its time may be enough for the rest.
        worst = max(slow, key=lambda c: _needed(c) / max(seconds[c.name], 1e-9))
        too_slow.append(worst.name)
        open_ = [c for c in open_ if c is not worst]
    # A process left idle goes to a trailing search rather than to nothing (1.); alone on
    # its process, each gets all of `seconds_left`.
    trailing = sorted(
        (c for c in first if c.name in behind and not c.converged and _needed(c) <= seconds_left),
        key=lambda c: -c.score,
    )
    idle = max(0, workers - len(open_))
    if trailing[:idle]:
        seconds = _shares(open_ + trailing[:idle], seconds_left, workers)
    # Left out because they trail: not continued, and not converged either.
    behind = [name for name in behind if name not in seconds and name not in converged]
    labels = {c.name: c.label for c in first}
    sentence = ""
    if not seconds and first and seconds_left > UNUSED_WORTH_SAYING * budget:
        if too_slow:
            names = ", ".join(labels[n] for n in too_slow)
            sentence = (
                f"About {seconds_left:.0f} s of the budget were left, too little for one more "
                f"trial and refit of {names}, whose search could still improve."
            )
        elif behind:
            names = ", ".join(labels[n] for n in behind)
            sentence = (
                f"The run ended about {seconds_left:.0f} s before its budget: the leader's "
                f"search had converged ({CONVERGENCE_RULE}), and {names} trailed it by more "
                "than their whole search had gained, so more trials would not change the "
                "recommendation."
            )
        else:
            sentence = converged_sentence(seconds_left)
    return SecondRoundPlan(
        seconds_left=seconds_left,
        seconds=seconds,
        converged=converged,
        out_of_reach=behind,
        too_slow=too_slow,
        sentence=sentence,
    )


def out_of_reach(first: list[FirstRound]) -> list[str]:
    """The candidates whose gap to the best CV score is larger than their first search's
    whole gain plus twice their folds' spread (module docstring, 1.)."""
    scores = [c.score for c in first if c.score is not None]
    if not scores:
        return []
    best = max(scores)
    return [c.name for c in first if c.score is not None and best - c.score > c.gain + 2 * c.spread]


def converged_sentence(seconds_left: float) -> str:
    """What the run page says when the run ended early because no search could improve."""
    return (
        f"The run ended about {seconds_left:.0f} s before its budget because every "
        f"model's search had converged ({CONVERGENCE_RULE})."
    )


def ended_early_sentence(
    searches: dict[str, SearchResult],
    *,
    continued: list[str],
    seconds_left: float,
    budget: float,
    labels: dict[str, str] | None = None,
    out_of_reach: list[str] = (),
    too_slow: list[str] = (),
) -> str:
    """After the second round: the sentence for a run that ends more than
    UNUSED_WORTH_SAYING of its `budget` early, or "". `searches` holds every trained
    candidate's search after both rounds; `continued`, `out_of_reach` and `too_slow` are
    the plan's (SecondRoundPlan). Either every search has now converged, or the sentence
    says why each that has not was left: a continued one ended because one more trial
    and the refit would not have fitted in what its round had left (its safety stop,
    search.py), or the plan did not continue it, since it trailed the leader
    (`out_of_reach`) or had no room (`too_slow`). `labels` names them for the page."""
    if seconds_left <= UNUSED_WORTH_SAYING * budget:
        return ""
    open_ = [name for name, search in searches.items() if not search.converged]
    if searches and not open_:
        return converged_sentence(seconds_left)
    short = [
        n for n in open_ if n in too_slow or (n in continued and searches[n].stopped_by == "time")
    ]
    behind = [n for n in open_ if n in out_of_reach and n not in short]
    named = labels or {}
    reasons = []
    if short:
        names = ", ".join(named.get(n, n) for n in short)
        reasons.append(f"too little was left for one more trial and refit of {names}")
    if behind:
        names = ", ".join(named.get(n, n) for n in behind)
        reasons.append(
            f"{names} trailed the leader by more than their whole search had gained, so more "
            "trials would not change the recommendation"
        )
    if not reasons:
        return ""
    return f"The run ended about {seconds_left:.0f} s before its budget: {'; '.join(reasons)}."


def _needed(candidate: FirstRound) -> float:
    return MARGIN * (candidate.trial_seconds + candidate.refit_seconds)


def _shares(candidates: list[FirstRound], seconds: float, workers: int) -> dict[str, float]:
    """Heaviest first onto the least loaded process; each process's `seconds` shared by
    weight. Returned in the order to send them: the first of each process, then the
    second of each, and so on, so the queue hands them out as planned."""
    lanes: list[list[FirstRound]] = [[] for _ in range(max(1, min(workers, len(candidates))))]
    for candidate in sorted(candidates, key=lambda c: -_weight(c)):
        lane = min(lanes, key=lambda tasks: sum(_weight(c) for c in tasks))
        lane.append(candidate)
    shares: dict[str, float] = {}
    for depth in range(max((len(lane) for lane in lanes), default=0)):
        for lane in lanes:
            if depth < len(lane):
                total = sum(_weight(c) for c in lane)
                shares[lane[depth].name] = seconds * _weight(lane[depth]) / total
    return shares


def _weight(candidate: FirstRound) -> float:
    return get_candidate(candidate.name).budget_weight
