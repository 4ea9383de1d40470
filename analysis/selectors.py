"""Reads that are more than a filter. Every query of user data is scoped by owner."""

from django.db.models import Prefetch, QuerySet

from .automl.kinds import ERROR, INFO, WARNING
from .automl.target_rule import TargetSuggestion, suggest_target
from .models import CandidateResult, Dataset, Run
from .templatetags.numbers import alike, count, significant


def datasets_of(user) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user)


def runs_of(user) -> QuerySet[Run]:
    return Run.objects.filter(owner=user).select_related("dataset")


def leaderboard(run: Run) -> list[CandidateResult]:
    """Ranked candidates first, best first, then the ones without a rank in family order.

    Each candidate's metrics come with the run's metric first and the rest by name (and,
    as `other_metrics`, the rest in the columns of `metric_columns`), and its parameters
    by name: PostgreSQL's jsonb does not keep keys in the order written, and the pages
    list them in the order they come.
    """
    from .automl.metrics import METRIC_LABELS

    candidates = list(run.candidates.all())
    keys = other_metric_keys(run, candidates)
    for c in candidates:
        c.metrics = dict(sorted(c.metrics.items(), key=lambda kv: (kv[0] != run.metric, kv[0])))
        c.params = dict(sorted(c.params.items()))
        # One cell per other metric, in the leaderboard's column order (see metric_columns).
        c.other_metrics = [
            {"label": METRIC_LABELS.get(k, k), "value": c.metrics.get(k)} for k in keys
        ]
    return sorted(candidates, key=lambda c: (c.rank is None, c.rank or 0, c.position))


def other_metric_keys(run: Run, candidates: list[CandidateResult]) -> list[str]:
    """The metrics besides the run's own that any candidate has, by name."""
    return sorted({k for c in candidates for k in (c.metrics or {}) if k != run.metric})


def first_sort(metric: str) -> str:
    """The order that puts the best model first for `metric`: a column's first sort."""
    from .automl.metrics import higher_is_better

    return "descending" if higher_is_better(metric) else "ascending"


def metric_columns(run: Run, candidates: list[CandidateResult]) -> list[dict]:
    """The leaderboard's column per other metric: its key, label and best-first order."""
    from .automl.metrics import METRIC_LABELS

    return [
        {
            "key": k,
            "label": METRIC_LABELS.get(k, k),
            "short": SHORT_METRIC_LABELS.get(k, METRIC_LABELS.get(k, k)),
            "first": first_sort(k),
        }
        for k in other_metric_keys(run, candidates)
    ]


# Column headings too long for a narrow column; the full label is the heading's tooltip.
SHORT_METRIC_LABELS = {"ece": "ECE", "balanced_accuracy": "Balanced acc."}


def rows_sentence(run: Run) -> str:
    """Which rows the models saw, precisely: the file, the sample, training and holdout.

    The models are fitted on the training rows only; the holdout rows score them.
    """
    plan = run.plan or {}
    train, holdout = plan.get("train_rows"), plan.get("holdout_rows")
    total, used = run.total_rows, run.sample_rows
    if not used:
        return ""
    if run.sampled:
        head = f"Trained on a sample of {count(used)} of {count(total)} rows"
    else:
        head = f"All {count(used)} rows of the file"
    if train is None or holdout is None:
        return f"{head}."
    return (
        f"{head}: the models were fitted on {count(train)} training rows and scored on "
        f"{count(holdout)} holdout rows they never saw."
    )


def runs_with_best(user, limit: int = 20) -> list[Run]:
    """The user's latest runs, each with `best` (its rank-1 candidate, or None)."""
    runs = list(
        runs_of(user).prefetch_related(
            Prefetch(
                "candidates",
                queryset=CandidateResult.objects.filter(rank=1),
                to_attr="ranked_first",
            )
        )[:limit]
    )
    for run in runs:
        run.best = run.ranked_first[0] if run.ranked_first else None
    return runs


def suggested_target(dataset: Dataset) -> TargetSuggestion | None:
    """The column most likely to be what the user wants to predict, and why (the rule is
    in automl/target_rule.py); an example dataset knows its own."""
    from .examples import EXAMPLES

    columns = (dataset.profile or {}).get("columns") or []
    for example in EXAMPLES:
        if dataset.name == example.filename and any(c["name"] == example.target for c in columns):
            return TargetSuggestion(example.target, "it is what this example dataset is about")
    return suggest_target(columns)


def dataset_runs(dataset: Dataset) -> QuerySet[Run]:
    return dataset.runs.all()


SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def dataset_findings(dataset: Dataset) -> list[dict]:
    """The profile's quality findings, most severe first (none on older profiles)."""
    findings = list((dataset.profile or {}).get("findings") or [])
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))


def dataset_preview(dataset: Dataset, limit: int | None = 20) -> list[list]:
    """The dataset's first rows, each a list of values in the order of its profile's columns."""
    from .automl.kinds import preview_rows

    return preview_rows(dataset.profile or {})[:limit]


def dataset_example_row(dataset: Dataset) -> dict:
    """The dataset's first row as {column: value}, to fill forms with ({} when it has none)."""
    names = [c["name"] for c in (dataset.profile or {}).get("columns") or []]
    rows = dataset_preview(dataset, limit=1)
    return dict(zip(names, rows[0], strict=False)) if rows else {}


def column_cards(dataset: Dataset) -> list[dict]:
    """One card per column: its profile plus missing share and histogram bar heights."""
    profile = dataset.profile or {}
    rows = profile.get("rows") or 0
    cards = []
    for column in profile.get("columns") or []:
        histogram = column.get("histogram") or []
        peak = max((b[2] for b in histogram), default=0)
        top = column.get("top_values") or []
        top_peak = max((n for _, n in top), default=0)
        cards.append(
            {
                **column,
                "missing_share": (column.get("missing") or 0) / rows if rows else 0,
                "bars": [
                    {"low": b[0], "high": b[1], "count": b[2], "height": b[2] / peak * 100}
                    for b in histogram
                ]
                if peak
                else [],
                "top": [
                    {"value": v, "count": n, "width": n / top_peak * 100 if top_peak else 0}
                    for v, n in top[:5]
                ],
            }
        )
    return cards


# Rough throughput of one profile/sample pass, used only to give the user an order of size.
SAMPLE_PASS_MB_PER_S = 60


def sample_options(dataset: Dataset) -> list[dict]:
    """Full, 100K and custom, each with its row count and an estimated time."""
    from django.conf import settings

    rows = dataset.row_count or 0
    default = settings.PROMISE_DEFAULT_SAMPLE_ROWS
    budget = settings.PROMISE_DEFAULT_TIME_BUDGET
    read = dataset.size_bytes / 1024**2 / SAMPLE_PASS_MB_PER_S
    options = [{"value": "full", "label": "Full data", "rows": rows}]
    if rows > default:
        options.append({"value": "default", "label": f"{default:,} rows", "rows": default})
    for option in options:
        option["seconds"] = round(read + budget)
    options.append({"value": "custom", "label": "Custom", "rows": None, "seconds": None})
    return options


def run_progress(run: Run, candidates: list[CandidateResult]) -> dict:
    """What the live run page shows: stage, trials, best so far, time left."""
    from django.utils import timezone

    from .automl.metrics import higher_is_better

    stages = {
        Run.Status.QUEUED: "Waiting for a worker",
        Run.Status.SAMPLING: "Reading and sampling the data",
        Run.Status.TRAINING: "Training the five candidates",
        Run.Status.RANKING: "Ranking the models on the held-out rows",
    }
    scores = [c.best_score for c in candidates if c.best_score is not None]
    best = None
    if scores:
        best = max(scores) if higher_is_better(run.metric or "accuracy") else min(scores)
    left = None
    if run.is_active and run.started_at:
        elapsed = (timezone.now() - run.started_at).total_seconds()
        left = max(0, round(run.time_budget - elapsed))
    done = sum(
        c.status in (CandidateResult.Status.SUCCEEDED, CandidateResult.Status.FAILED)
        for c in candidates
    )
    return {
        "stage": stages.get(run.status, run.get_status_display()),
        "trials": sum(c.trials_done for c in candidates),
        "best": best,
        "seconds_left": left,
        "done": done,
        "total": len(candidates),
    }


def comparable_runs(run: Run) -> QuerySet[Run]:
    """Other runs of the same dataset by the same owner."""
    return Run.objects.filter(owner=run.owner, dataset_id=run.dataset_id).exclude(pk=run.pk)


def comparison_rows(run: Run, pair: list[CandidateResult]) -> list[tuple[str, list]]:
    """Rows of the side-by-side table: every metric, timing and parameter of two models."""
    from .automl.metrics import METRIC_LABELS

    rows: list[tuple[str, list]] = [("Rank", [c.rank for c in pair])]
    metrics = sorted({k for c in pair for k in c.metrics}, key=lambda k: (k != run.metric, k))
    rows += [(METRIC_LABELS.get(k, k), [c.metrics.get(k) for c in pair]) for k in metrics]
    rows += [
        ("CV mean", [c.cv_mean for c in pair]),
        ("CV std", [c.cv_std for c in pair]),
        ("Trials", [c.trials_done for c in pair]),
        ("Fit time", [c.fit_seconds for c in pair]),
        ("Predict (ms / 1,000 rows)", [c.predict_ms_per_1000 for c in pair]),
        ("Size", [c.model_bytes for c in pair]),
    ]
    params = sorted({k for c in pair for k in c.params})
    rows += [(f"param: {k}", [c.params.get(k) for c in pair]) for k in params]
    return rows


def run_comparison_rows(run: Run, other: Run) -> list[tuple[str, list]]:
    """Two runs' settings and best models, row by row."""
    from .automl.metrics import METRIC_LABELS

    pair = [run, other]
    best = [r.candidates.filter(rank=1).first() for r in pair]
    return [
        ("Status", [r.get_status_display() for r in pair]),
        ("Target", [r.target for r in pair]),
        ("Task", [(r.plan or {}).get("task", r.task or "auto") for r in pair]),
        ("Rows sampled", [r.sample_rows for r in pair]),
        ("Training rows", [(r.plan or {}).get("train_rows") for r in pair]),
        ("Holdout rows", [(r.plan or {}).get("holdout_rows") for r in pair]),
        ("Strategy", [r.sample_strategy for r in pair]),
        ("Time budget (s)", [r.time_budget for r in pair]),
        ("Left out", [", ".join(r.excluded_columns) or "–" for r in pair]),
        ("Recommended", [b.label if b else None for b in best]),
        (
            "Best score",
            [
                f"{METRIC_LABELS.get(r.metric, r.metric)} {significant(b.metrics.get(r.metric))}"
                if b and b.metrics.get(r.metric) is not None
                else None
                for r, b in zip(pair, best, strict=True)
            ],
        ),
    ]


def candidate_confirmation(run: Run, candidate: CandidateResult) -> dict:
    """The whole-file confirmation of one candidate as the pages show it.

    Side by side per metric: the sample's holdout, the rows of the file the run did not
    train on, and the difference (full − holdout); whether the full-file score of the
    run's metric is outside the holdout's 95% interval (None: no interval or no score);
    a short `note` for the leaderboard; `can_start` when the user may ask for it.
    """
    from .automl.confirm import compare_to_holdout
    from .automl.metrics import METRIC_LABELS

    Confirmation = CandidateResult.Confirmation
    full = candidate.full_metrics or {}
    comparisons, outside = compare_to_holdout(
        candidate.metrics or {}, full, metric=run.metric, interval=candidate.holdout_ci
    )
    rows = [
        {
            "metric": c.metric,
            "label": METRIC_LABELS.get(c.metric, c.metric),
            "holdout": c.holdout,
            "full": c.full,
            "difference": c.difference,
        }
        for c in comparisons
    ]
    status = candidate.confirm_status
    main = next((row for row in rows if row["metric"] == run.metric), {})
    score, difference = main.get("full"), main.get("difference")
    note = ""
    if status == Confirmation.SUCCEEDED and score is not None:
        sign = "+" if difference is not None and difference >= 0 else ""
        change = "" if difference is None else f" ({sign}{alike(difference, score)})"
        change = change.replace("-", "\u2212")
        note = f"full file: {significant(score)}{change}"
    elif status in (Confirmation.QUEUED, Confirmation.RUNNING):
        note = "full file: being scored"
    elif status == Confirmation.FAILED:
        note = "full file: could not be scored"
    return {
        "status": status,
        "status_label": candidate.get_confirm_status_display(),
        "active": status in (Confirmation.QUEUED, Confirmation.RUNNING),
        "error": candidate.confirm_error,
        "rows": rows if status == Confirmation.SUCCEEDED else [],
        "holdout_rows": (run.plan or {}).get("holdout_rows"),
        "full_rows": candidate.full_rows,
        "unknown_class_rows": full.get("unknown_class_rows", 0),
        "score": score,
        "difference": difference,
        "interval": candidate.holdout_ci,
        "outside": outside,
        "metric_label": METRIC_LABELS.get(run.metric, run.metric),
        "note": note,
        "can_start": run.status == Run.Status.SUCCEEDED
        and run.sampled
        and candidate.status == CandidateResult.Status.SUCCEEDED
        and status in (Confirmation.NONE, Confirmation.FAILED),
    }


def attach_confirmations(run: Run, candidates: list[CandidateResult]) -> None:
    """Give each candidate its `confirmation` (see candidate_confirmation) for the templates."""
    for candidate in candidates:
        candidate.confirmation = candidate_confirmation(run, candidate)
