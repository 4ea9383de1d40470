"""The ranking and its caveats in plain sentences."""

from __future__ import annotations

from dataclasses import dataclass

from .metrics import METRIC_LABELS


@dataclass(frozen=True)
class RankedCandidate:
    label: str
    metrics: dict[str, float]
    fit_seconds: float


def run_insights(
    ranked: list[RankedCandidate],
    *,
    metric: str,
    sample_rows: int,
    total_rows: int,
    failed: list[str],
    dropped: dict[str, str],
) -> list[str]:
    """Sentences for the run page: the recommendation first, then what to keep in mind."""
    name = METRIC_LABELS.get(metric, metric)
    best = ranked[0]
    sentences = []
    if len(ranked) > 1:
        runner_up = ranked[1]
        margin = abs(best.metrics[metric] - runner_up.metrics[metric])
        standing = (
            f"tied with {runner_up.label}, which it is listed before as the simpler model"
            if margin == 0
            else f"{margin:.4f} ahead of {runner_up.label} ({runner_up.metrics[metric]:.4f})"
        )
        sentences.append(
            f"Use {best.label}: it scored {name} {best.metrics[metric]:.4f} on the holdout rows, "
            f"{standing}, and trained in {best.fit_seconds:.1f} s."
        )
    else:
        sentences.append(
            f"Use {best.label}: it is the only candidate that trained, "
            f"with {name} {best.metrics[metric]:.4f} on the holdout rows."
        )
    if sample_rows < total_rows:
        sentences.append(
            f"Trained on a sample of {sample_rows:,} of {total_rows:,} rows: the exported "
            "train.py trains the same model on all of them."
        )
    if failed:
        sentences.append(f"Not in the ranking because training failed: {', '.join(failed)}.")
    for column, reason in dropped.items():
        sentences.append(f"The column {column!r} was left out: it {reason}.")
    return sentences
