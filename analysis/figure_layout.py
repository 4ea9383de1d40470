"""What every page chart shares: the Figure record, the palette and the layout (axis
titles, room for plotly's toolbar). figures.py and explanation_figures.py build on it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import plotly.graph_objects as go

PALETTE = ("#2456d6", "#d9822b", "#1b7a3d", "#8e44ad", "#b3261e", "#0f8b8d", "#6b4f2a")
# Room above the plot for plotly's toolbar, so that it never covers the chart's content.
TOOLBAR_MARGIN = 40


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    description: str
    spec: dict


def _layout(fig: go.Figure, *, x: str = "", y: str = "", height: int = 340) -> dict:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 56, "r": 16, "t": TOOLBAR_MARGIN, "b": 48},
        font={"family": "system-ui, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.25},
        xaxis_title=x,
        yaxis_title=y,
    )
    return json.loads(fig.to_json())
