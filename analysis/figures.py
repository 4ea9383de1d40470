"""Plotly figures of a run, built in Python from the chart data stored on its candidates.

Each builder returns a figure as a JSON-ready dict (drawn in the page by the vendored
plotly.js cartesian bundle, see static/js/charts.js), or None when the data it needs
is absent, so a run from before a chart existed simply shows fewer charts.

The stored chart data (CandidateResult.charts, written by automl/charts.py):
actual_vs_predicted {actual, predicted}; residuals {predicted, residual};
confusion_matrix {labels, matrix}; roc {curves: [{label, fpr, tpr, auc}]};
pr {curves: [{label, precision, recall, average_precision}]}; reliability {bins, ece};
feature_importance [{feature, importance, std}] (most important first); cv_scores [float];
search_history [{trial, score, seconds}].
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .automl.metrics import METRIC_LABELS, higher_is_better
from .explanation_figures import partial_dependence
from .figure_layout import PALETTE, TOOLBAR_MARGIN, Figure, _layout
from .models import CandidateResult, Run

TOP_FEATURES = 15


def _succeeded(candidates: list[CandidateResult]) -> list[CandidateResult]:
    return [c for c in candidates if c.status == CandidateResult.Status.SUCCEEDED]


def _better(metric: str) -> str:
    return "higher is better" if higher_is_better(metric) else "lower is better"


def _scores(labels: list[str], values: list[float], **marker) -> go.Scatter:
    """Scores as dots: unlike bars, dots need no axis from 0, so the axis can zoom to the
    differences between models."""
    return go.Scatter(
        x=labels,
        y=values,
        mode="markers+text",
        marker={"size": 12, **marker},
        text=[f"{v:.4g}" for v in values],
        textposition="middle right",
        cliponaxis=False,
    )


def metric_per_model(run: Run, candidates: list[CandidateResult]) -> Figure | None:
    done = [c for c in _succeeded(candidates) if c.metrics.get(run.metric) is not None]
    if not done:
        return None
    label = METRIC_LABELS.get(run.metric, run.metric)
    trace = _scores(
        [c.label for c in done],
        [c.metrics[run.metric] for c in done],
        color=[PALETTE[0] if c.name == run.recommended else "#9db7ff" for c in done],
    )
    trace.error_y = {
        "type": "data",
        "array": [c.cv_std or 0 for c in done],
        "visible": any(c.cv_std for c in done),
    }
    return Figure(
        "metric-per-model",
        f"{label} per model",
        f"On the held-out rows; {_better(run.metric)}. The recommended model is the dark dot; "
        "the whiskers are the spread across cross-validation folds. The axis covers only "
        "the scores' range, so that the differences show.",
        _layout(go.Figure(trace), x="model", y=f"{label} ({_better(run.metric)})"),
    )


def actual_vs_predicted(candidate: CandidateResult) -> Figure | None:
    data = candidate.charts.get("actual_vs_predicted")
    if not data or not data.get("actual"):
        return None
    actual, predicted = data["actual"], data["predicted"]
    low, high = min(actual + predicted), max(actual + predicted)
    fig = go.Figure(
        [
            go.Scatter(
                x=actual,
                y=predicted,
                mode="markers",
                name="rows",
                marker={"size": 5, "opacity": 0.6, "color": PALETTE[0]},
            ),
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                name="perfect",
                line={"dash": "dash", "color": "#888"},
            ),
        ]
    )
    return Figure(
        f"avp-{candidate.name}",
        "Actual vs predicted",
        "Each dot is a held-out row; on the dashed line the prediction is exact.",
        _layout(fig, x="actual", y="predicted"),
    )


def residuals(candidate: CandidateResult) -> Figure | None:
    data = candidate.charts.get("residuals")
    if not data or not data.get("residual"):
        return None
    fig = go.Figure(
        go.Scatter(
            x=data["predicted"],
            y=data["residual"],
            mode="markers",
            marker={"size": 5, "opacity": 0.6, "color": PALETTE[1]},
        )
    )
    fig.add_hline(y=0, line_dash="dash", line_color="#888")
    return Figure(
        f"residuals-{candidate.name}",
        "Residuals",
        "Actual minus predicted; a pattern here means the model misses something.",
        _layout(fig, x="predicted", y="actual − predicted"),
    )


def confusion_matrix(candidate: CandidateResult) -> Figure | None:
    data = candidate.charts.get("confusion_matrix")
    if not data or not data.get("matrix"):
        return None
    labels = [str(label) for label in data["labels"]]
    fig = go.Figure(
        go.Heatmap(
            z=data["matrix"],
            x=labels,
            y=labels,
            colorscale="Blues",
            text=data["matrix"],
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return Figure(
        f"confusion-{candidate.name}",
        "Confusion matrix",
        "Rows: the actual class; columns: the predicted class. The diagonal is right.",
        _layout(fig, x="predicted", y="actual"),
    )


def _curves(data) -> list[dict]:
    if not data:
        return []
    if isinstance(data, dict):
        return data.get("curves") or ([data] if data else [])
    return list(data)


def roc(candidate: CandidateResult) -> Figure | None:
    curves = [c for c in _curves(candidate.charts.get("roc")) if c.get("fpr")]
    if not curves:
        return None
    traces = [
        go.Scatter(
            x=c["fpr"],
            y=c["tpr"],
            mode="lines",
            line={"color": PALETTE[i % len(PALETTE)]},
            name=f"{c.get('label', '')} (AUC {c.get('auc', float('nan')):.3f})".strip(),
        )
        for i, c in enumerate(curves)
    ]
    traces.append(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            line={"dash": "dash", "color": "#888"},
        )
    )
    return Figure(
        f"roc-{candidate.name}",
        "ROC curve",
        "True positives against false positives as the threshold moves; up and left is better.",
        _layout(go.Figure(traces), x="false positive rate", y="true positive rate"),
    )


def precision_recall(candidate: CandidateResult) -> Figure | None:
    curves = [c for c in _curves(candidate.charts.get("pr")) if c.get("recall")]
    if not curves:
        return None
    traces = [
        go.Scatter(
            x=c["recall"],
            y=c["precision"],
            mode="lines",
            line={"color": PALETTE[i % len(PALETTE)]},
            name=f"{c.get('label', '')} (AP {c.get('average_precision', float('nan')):.3f})",
        )
        for i, c in enumerate(curves)
    ]
    return Figure(
        f"pr-{candidate.name}",
        "Precision–recall",
        "Precision against recall as the threshold moves; up and right is better.",
        _layout(go.Figure(traces), x="recall", y="precision"),
    )


def reliability(candidate: CandidateResult) -> Figure | None:
    data = candidate.charts.get("reliability")
    bins = data.get("bins") if isinstance(data, dict) else data
    if not bins:
        return None
    fig = go.Figure(
        [
            go.Scatter(
                x=[b["confidence"] for b in bins],
                y=[b["accuracy"] for b in bins],
                mode="lines+markers",
                name="model",
                line={"color": PALETTE[0]},
                text=[f"{b['count']} rows" for b in bins],
            ),
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="calibrated",
                line={"dash": "dash", "color": "#888"},
            ),
        ]
    )
    return Figure(
        f"reliability-{candidate.name}",
        "Calibration",
        "How often the model is right against how sure it says it is.",
        _layout(fig, x="confidence", y="accuracy"),
    )


def feature_importance(candidate: CandidateResult) -> Figure | None:
    data = candidate.charts.get("feature_importance") or []
    if not data:
        return None
    top = data[:TOP_FEATURES]
    # Plotly draws horizontal bars bottom-up: least important first puts the top one on top.
    rows = [(d["feature"], d["importance"], d.get("std") or 0) for d in reversed(top)]
    fig = go.Figure(
        go.Bar(
            x=[r[1] for r in rows],
            y=[str(r[0]) for r in rows],
            orientation="h",
            error_x={"type": "data", "array": [r[2] for r in rows]},
            marker_color=PALETTE[2],
        )
    )
    return Figure(
        f"importance-{candidate.name}",
        "Feature importance",
        "How much the score drops when a column is shuffled (permutation importance).",
        _layout(
            fig,
            x=f"drop in {METRIC_LABELS.get(candidate.run.metric, candidate.run.metric)}",
            y="feature",
            height=max(260, 26 * len(rows) + 80),
        ),
    )


def search_history(run: Run, candidates: list[CandidateResult]) -> Figure | None:
    traces = []
    for i, c in enumerate(candidates):
        history = c.charts.get("search_history") or []
        points = [h for h in history if h.get("score") is not None]
        if points:
            traces.append(
                go.Scatter(
                    x=[h["trial"] for h in points],
                    y=[h["score"] for h in points],
                    mode="lines+markers",
                    name=c.label,
                    line={"color": PALETTE[i % len(PALETTE)]},
                )
            )
    if not traces:
        return None
    return Figure(
        "search-history",
        "Search history",
        "The cross-validated score of each trial of the hyper-parameter search.",
        _layout(
            go.Figure(traces),
            x="trial (in the order tried)",
            y=f"cross-validated {METRIC_LABELS.get(run.metric, run.metric)}",
        ),
    )


def pair_metrics(run: Run, pair: list[CandidateResult]) -> Figure | None:
    """Every holdout metric of two models, one small chart each: metrics in different
    units never share an axis."""
    names = [k for k in dict.fromkeys(k for c in pair for k in c.metrics) if k != "ece"]
    names = [k for k in names if any(c.metrics.get(k) is not None for c in pair)]
    if not names:
        return None
    columns = min(2, len(names))
    rows = -(-len(names) // columns)
    fig = make_subplots(rows=rows, cols=columns, horizontal_spacing=0.18, vertical_spacing=0.3)
    for n, name in enumerate(names):
        row, col = divmod(n, columns)
        for i, c in enumerate(pair):
            value = c.metrics.get(name)
            if value is None:
                continue
            trace = _scores([c.label], [value], color=PALETTE[i])
            trace.update(name=c.label, legendgroup=c.label, showlegend=n == 0)
            fig.add_trace(trace, row=row + 1, col=col + 1)
        label = METRIC_LABELS.get(name, name)
        fig.update_xaxes(title_text=f"{label} ({_better(name)})", row=row + 1, col=col + 1)
    fig.update_layout(
        template="plotly_white",
        height=190 * rows + 90,
        margin={"l": 56, "r": 56, "t": TOOLBAR_MARGIN, "b": 48},
        font={"family": "system-ui, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.12 if rows > 2 else -0.25},
    )
    return Figure(
        "pair-metrics",
        "Every metric",
        "Holdout metrics of both models, one chart per metric, each on its own axis; under "
        "each chart, which way is better.",
        json.loads(fig.to_json()),
    )


def candidate_figures(candidate: CandidateResult) -> list[Figure]:
    """The per-model charts that this candidate's stored data allows."""
    builders = (
        actual_vs_predicted,
        residuals,
        confusion_matrix,
        roc,
        precision_recall,
        reliability,
        feature_importance,
        partial_dependence,
    )
    return [figure for build in builders if (figure := build(candidate))]


def run_figures(run: Run, candidates: list[CandidateResult]) -> list[Figure]:
    """The charts that compare the models of a run."""
    return [
        figure
        for figure in (metric_per_model(run, candidates), search_history(run, candidates))
        if figure
    ]
