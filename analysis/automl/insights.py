"""The ranking and its caveats in plain sentences."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metrics import METRIC_LABELS, higher_is_better

# A model is flagged as overfitting when its training score beats its holdout score by
# more than this (R², accuracy and other 0..1 scores), or, for error metrics, when the
# holdout error is this many times the training error.
TRAIN_GAP = 0.10
TRAIN_ERROR_RATIO = 1.5
# Cross-validation and holdout disagree when the gap is above twice the CV spread and this.
CV_GAP = 0.05


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate in leaderboard order (ranking.rank_candidates), with what the
    sentences cite: CV folds, the holdout report and the test against the leader."""

    label: str
    metrics: dict[str, float]
    cv_mean: float | None = None
    cv_std: float | None = None
    train_metrics: dict[str, float] = field(default_factory=dict)
    folds: int = 0
    holdout_ci: list[float] | None = None
    tied_with_first: bool = False
    p_value: float | None = None


def run_insights(
    ranked: list[RankedCandidate],
    *,
    metric: str,
    sample_rows: int,
    total_rows: int,
    failed: list[str],
    dropped: dict[str, str],
    findings: list[dict] = (),
    target_encoded: list[str] = (),
    finished_early: bool = False,
) -> list[str]:
    """Sentences for the run page: the recommendation first, then what to keep in mind.

    `ranked` is the leaderboard order (ranking.rank_candidates: chosen by CV, near-ties
    already given to the simpler model); `cv_mean`/`cv_std` are in the units of `metric`.
    """
    sentences = [_recommendation(ranked, metric)]
    for candidate in ranked:
        sentences.extend(_overfitting(candidate, metric))
    if sample_rows < total_rows:
        sentences.append(
            f"Trained on a sample of {sample_rows:,} of {total_rows:,} rows: the exported "
            "train.py trains the same model on all of them."
        )
    if finished_early:
        sentences.append(
            "The search was finished early, as asked: each model kept its best trial so far, "
            "refitted on all training rows; with the whole budget the scores might be higher."
        )
    if failed:
        sentences.append(f"Not in the ranking because training failed: {', '.join(failed)}.")
    for finding in findings:
        sentences.append(f"{finding['message']} {finding['action']}")
    for column, reason in dropped.items():
        sentences.append(f"The column {column!r} was left out: it {reason}.")
    if target_encoded:
        names = ", ".join(repr(name) for name in target_encoded)
        sentences.append(
            f"{names} {'has' if len(target_encoded) == 1 else 'have'} too many categories for "
            "one column each, so every category is read as the target's average for it, "
            "learned on other training rows than its own (target encoding)."
        )
    return sentences


def _recommendation(ranked: list[RankedCandidate], metric: str) -> str:
    name = METRIC_LABELS.get(metric, metric)
    best = ranked[0]
    if best.cv_mean is None:
        return (
            f"Use {best.label} with care: no candidate finished a cross-validated trial, so "
            f"the order is by simplicity alone; {_holdout(best, metric)}."
        )
    first = (
        f"Use {best.label}: it has the best cross-validated {name} on the training rows, "
        f"{_cv(best)}"
    )
    runner_up = next((c for c in ranked[1:] if c.cv_mean is not None), None)
    if runner_up is None:
        lead = "It is the only candidate with a cross-validated score."
    else:
        sign = 1 if higher_is_better(metric) else -1
        gap = sign * (best.cv_mean - runner_up.cv_mean)
        if gap < 0 and runner_up.folds == 1:
            lead = (
                f"{runner_up.label} scored {runner_up.cv_mean:.4f} on one validation split, "
                f"{-gap:.4f} higher, but one split's score leans optimistic and that lead is "
                f"not significant against {best.label}'s folds (p = {runner_up.p_value:.3f}), "
                f"so {best.label} comes first."
            )
        elif gap < 0:
            lead = (
                f"{runner_up.label} scored {runner_up.cv_mean:.4f}, {-gap:.4f} better, a "
                f"difference too small to matter, so the simpler {best.label} comes first."
            )
        elif gap == 0:
            lead = (
                f"It ties with {runner_up.label} ({runner_up.cv_mean:.4f}), so the simpler "
                f"{best.label} comes first."
            )
        elif runner_up.p_value is None:
            lead = (
                f"It leads {runner_up.label} ({runner_up.cv_mean:.4f}) by {gap:.4f}; there were "
                "too few folds for a test of whether that lead is real."
            )
        elif runner_up.tied_with_first:
            test = f"corrected resampled t-test over the folds, p = {runner_up.p_value:.3f}"
            lead = (
                f"Its lead of {gap:.4f} over {runner_up.label} ({runner_up.cv_mean:.4f}) is "
                f"not significant ({test}): the two are tied, and either is a sound choice."
            )
        else:
            test = (
                f"the corrected resampled t-test over the folds gives p = {runner_up.p_value:.3f}"
            )
            lead = (
                f"Its lead of {gap:.4f} over {runner_up.label} ({runner_up.cv_mean:.4f}) is "
                f"real: {test}."
            )
    return (
        f"{first}. {lead} On the holdout rows, which no model was chosen on, "
        f"{_holdout(best, metric)}."
    )


def _cv(candidate: RankedCandidate) -> str:
    folds = f" over {candidate.folds} folds" if candidate.folds else ""
    return f"{candidate.cv_mean:.4f} ± {candidate.cv_std or 0:.4f}{folds}"


def _holdout(candidate: RankedCandidate, metric: str) -> str:
    score = candidate.metrics.get(metric)
    if score is None:
        return f"{candidate.label} has no score"
    interval = ""
    if candidate.holdout_ci:
        low, high = candidate.holdout_ci
        interval = f" (95% interval {low:.4f} to {high:.4f})"
    return f"{candidate.label} scores {score:.4f}{interval}"


def _overfitting(candidate: RankedCandidate, metric: str) -> list[str]:
    name = METRIC_LABELS.get(metric, metric)
    holdout = candidate.metrics.get(metric)
    if holdout is None:
        return []
    sentences = []
    higher = higher_is_better(metric)
    trained = candidate.train_metrics.get(metric)
    if trained is not None:
        overfit = (
            trained - holdout > TRAIN_GAP
            if higher
            else holdout > TRAIN_ERROR_RATIO * trained and holdout - trained > 0
        )
        if overfit:
            sentences.append(
                f"{candidate.label} may be overfitting: {name} {trained:.4f} on its training "
                f"rows but {holdout:.4f} on the holdout; simpler settings or more rows "
                "would help."
            )
    if candidate.cv_mean is not None and candidate.cv_std is not None:
        gap = candidate.cv_mean - holdout if higher else holdout - candidate.cv_mean
        if gap > max(2 * candidate.cv_std, CV_GAP):
            sentences.append(
                f"{candidate.label} did worse on the holdout ({name} {holdout:.4f}) than in "
                f"cross-validation ({candidate.cv_mean:.4f} ± {candidate.cv_std:.4f}): the "
                "search may have fitted the training rows' quirks, or the holdout rows differ "
                "from them (for a time-based sample, later rows may behave differently)."
            )
    return sentences
