"""Plotly figures of explanations: a prediction's contributions as a waterfall, and a
model's partial dependence with ICE lines (figures.py's conventions: JSON-ready dicts,
every axis titled, drawn by static/js/charts.js)."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figure_layout import PALETTE, TOOLBAR_MARGIN, Figure, _layout
from .models import CandidateResult

# Columns drawn one by one in a waterfall; the rest are summed into one bar.
WATERFALL_COLUMNS = 10
UP, DOWN, TOTAL = PALETTE[4], PALETTE[0], "#6b7280"


def output_label(answer: dict, target: str) -> str:
    """What the numbers of an explanation measure, for the axis title."""
    if answer["output"] == "prediction":
        return f"predicted {target}"
    return f"{answer['output']} of {target} = {answer['class']}"


def waterfall(answer: dict, *, target: str, number: int = 1) -> Figure:
    """From the base value, each column's contribution in turn, to the model's output."""
    items = sorted(answer["contributions"].items(), key=lambda kv: -abs(kv[1]))
    shown, rest = items[:WATERFALL_COLUMNS], items[WATERFALL_COLUMNS:]
    if rest:
        shown.append((f"{len(rest)} other columns", sum(v for _, v in rest)))
    labels, starts, lengths, colours = ["base value"], [0.0], [answer["base_value"]], [TOTAL]
    running = answer["base_value"]
    for name, value in shown:
        labels.append(str(name))
        starts.append(running)
        lengths.append(value)
        colours.append(UP if value >= 0 else DOWN)
        running += value
    labels.append("model output")
    starts.append(0.0)
    lengths.append(answer["value"])
    colours.append(TOTAL)
    texts = [f"{answer['base_value']:.4g}"]
    texts += [f"{v:+.4g}" for _, v in shown] + [f"{answer['value']:.4g}"]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=lengths,
            base=starts,
            orientation="h",
            marker_color=colours,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    measure = output_label(answer, target)
    fig.update_yaxes(autorange="reversed")  # base value on top, the output at the bottom
    ends = [0.0, *starts, *(a + b for a, b in zip(starts, lengths, strict=True))]
    low, high = min(ends), max(ends)
    pad = (high - low) * 0.45 or 1.0  # room for the numbers written beside the bars
    fig.update_xaxes(range=[low - pad, high + pad], zeroline=True)
    spec = _layout(fig, x=measure, y="contribution of", height=max(280, 28 * len(labels) + 90))
    return Figure(
        f"explain-{number}",
        "Why this prediction",
        f"Each column's contribution (SHAP value) to the {measure}, from the base value "
        "(the model's average output) to this record's output; red bars raise it, blue "
        "bars lower it.",
        spec,
    )


def partial_dependence(candidate: CandidateResult) -> Figure | None:
    """One small chart per column (most important first): a grey line per sampled row
    (ICE) and their mean (partial dependence) in the palette's first colour."""
    charts = candidate.charts.get("partial_dependence") or []
    if not charts:
        return None
    fig = make_subplots(rows=len(charts), cols=1, vertical_spacing=0.5 / len(charts))
    for n, chart in enumerate(charts, start=1):
        xs, ys = [], []
        for line in chart["ice"]:  # every row's line in one trace, split by gaps
            xs += [*chart["grid"], None]
            ys += [*line, None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": "rgba(107,114,128,0.25)", "width": 1},
                name="one row (ICE)",
                legendgroup="ice",
                showlegend=n == 1,
                hoverinfo="skip",
            ),
            row=n,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=chart["grid"],
                y=chart["average"],
                mode="lines+markers",
                line={"color": PALETTE[0], "width": 3},
                name="average (partial dependence)",
                legendgroup="average",
                showlegend=n == 1,
            ),
            row=n,
            col=1,
        )
        kind = "category" if chart["kind"] == "categorical" else "linear"
        fig.update_xaxes(title_text=str(chart["feature"]), type=kind, row=n, col=1)
        fig.update_yaxes(title_text=chart["output"], row=n, col=1)
    fig.update_layout(
        template="plotly_white",
        height=230 * len(charts) + 110,
        margin={"l": 64, "r": 16, "t": TOOLBAR_MARGIN, "b": 48},
        font={"family": "system-ui, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.4 / len(charts)},
    )
    return Figure(
        f"dependence-{candidate.name}",
        "Partial dependence",
        "How the model's output moves as one column changes, the others kept as they are: "
        "a grey line per sampled holdout row (ICE), and their average in blue; the five "
        "most important columns.",
        json.loads(fig.to_json()),
    )
