"""Plotly figures of explanations: a prediction's contributions as a waterfall, and a
model's partial dependence with ICE lines (figures.py's conventions: JSON-ready dicts,
every axis titled, drawn by static/js/charts.js)."""

from __future__ import annotations

import plotly.graph_objects as go

from .figures import PALETTE, Figure, _layout

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
    spec = _layout(fig, x=measure, y="contribution of", height=max(280, 28 * len(labels) + 90))
    return Figure(
        f"explain-{number}",
        "Why this prediction",
        f"Each column's contribution (SHAP value) to the {measure}, from the base value "
        "(the model's average output) to this record's output; red bars raise it, blue "
        "bars lower it.",
        spec,
    )
