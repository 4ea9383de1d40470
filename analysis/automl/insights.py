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
    label: str
    metrics: dict[str, float]
    fit_seconds: float
    cv_mean: float | None = None
    cv_std: float | None = None
    train_metrics: dict[str, float] = field(default_factory=dict)


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
) -> list[str]:
    """Sentences for the run page: the recommendation first, then what to keep in mind.

    `ranked` is the leaderboard order (metrics.leaderboard_order, near-ties already
    given to the simpler model); `cv_mean`/`cv_std` are in the units of `metric`.
    """
    sentences = [_recommendation(ranked, metric)]
    for candidate in ranked:
        sentences.extend(_overfitting(candidate, metric))
    if sample_rows < total_rows:
        sentences.append(
            f"Trained on a sample of {sample_rows:,} of {total_rows:,} rows: the exported "
            "train.py trains the same model on all of them."
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
    score = best.metrics[metric]
    if len(ranked) == 1:
        return (
            f"Use {best.label}: it is the only candidate that trained, "
            f"with {name} {score:.4f} on the holdout rows."
        )
    sign = 1 if higher_is_better(metric) else -1
    stronger = [c for c in ranked[1:] if sign * (c.metrics[metric] - score) > 0]
    if stronger:
        # The near-tie rule put a simpler model first; say so and by how little it trails.
        top = max(stronger, key=lambda c: sign * c.metrics[metric])
        gap = abs(top.metrics[metric] - score)
        noise = f" (±{top.cv_std:.4f} across CV folds)" if top.cv_std is not None else ""
        return (
            f"Use {best.label}: its {name} of {score:.4f} on the holdout rows is within the "
            f"cross-validation noise{noise} of {top.label}'s {top.metrics[metric]:.4f}, "
            f"{gap:.4f} apart, and it is the simpler model and trains in "
            f"{best.fit_seconds:.1f} s against {top.fit_seconds:.1f} s."
        )
    runner_up = ranked[1]
    margin = abs(score - runner_up.metrics[metric])
    if margin == 0:
        standing = f"tied with {runner_up.label}, which it is listed before as the simpler model"
    else:
        standing = f"{margin:.4f} ahead of {runner_up.label} ({runner_up.metrics[metric]:.4f})"
    why = ""
    if best.cv_mean is not None and best.cv_std is not None:
        why = (
            f"; cross-validation on the training rows agrees ({best.cv_mean:.4f} ± "
            f"{best.cv_std:.4f})"
        )
    return (
        f"Use {best.label}: it scored {name} {score:.4f} on the holdout rows, "
        f"{standing}, and trained in {best.fit_seconds:.1f} s{why}."
    )


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
