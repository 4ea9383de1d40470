"""The dataset page's view of how each column goes with the (suggested) target: a bar per
column, from a seeded sample of at most automl.associations.SAMPLE_ROWS rows of the
table's normalised Parquet copy (written when it was profiled). The measures and their
rule are in automl/associations.py; the answer is cached per dataset, file and target."""

from __future__ import annotations

import logging

import plotly.graph_objects as go
from django.core.cache import cache

from .automl.associations import SAMPLE_ROWS, target_associations
from .automl.associations import read_sample as _read_sample
from .automl.ingest.detect import is_parquet
from .automl.ingest.parquet_copy import normalized_path
from .automl.ingest.source import IngestOptions
from .figure_layout import PALETTE, Figure, _layout
from .models import Dataset
from .storage import dataset_file

log = logging.getLogger(__name__)

RULE = (
    f"From a random sample of up to {SAMPLE_ROWS:,} rows. Number with a number target: "
    "Spearman's rank correlation ρ (signed, Pearson's r on hover); a category with a number "
    "target, or a number with a category target: the correlation ratio η; two categories: "
    "Cramér's V. Each runs from 0 (no association) to 1; bars show its size. Dates, text "
    "and identifiers are left out."
)
CACHE_SECONDS = 3600


def associations(dataset: Dataset, target: str) -> list[dict]:
    """Each usable column's association with `target`, strongest first ([] when the
    table's Parquet copy is not there to read)."""
    profile = dataset.profile or {}
    kinds = {c["name"]: c.get("kind", "") for c in profile.get("columns") or []}
    if target not in kinds:
        return []
    key = f"associations:{dataset.pk}:{dataset.sha256}:{profile.get('rows')}:{target}"
    found = cache.get(key)
    if found is None:
        found = _compute(dataset, target, kinds)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _compute(dataset: Dataset, target: str, kinds: dict[str, str]) -> list[dict]:
    try:
        with dataset_file(dataset) as path:
            options = IngestOptions(**(dataset.read_options or {}))
            parquet = path if is_parquet(path) else normalized_path(path, options)
            if not parquet.exists():
                return []
            frame = _read_sample(parquet, list(kinds))
    except Exception:  # an unreadable copy costs the chart, never the page
        log.exception("associations of dataset %s could not be read", dataset.pk)
        return []
    return target_associations(frame, target, kinds)


def associations_figure(found: list[dict], target: str) -> Figure | None:
    if not found:
        return None
    rows = list(reversed(found))  # plotly draws bars bottom-up: the strongest on top
    fig = go.Figure(
        go.Bar(
            x=[r["strength"] for r in rows],
            y=[str(r["feature"]) for r in rows],
            orientation="h",
            marker_color=[PALETTE[0] if r["value"] >= 0 else PALETTE[1] for r in rows],
            text=[f"{r['measure']} {r['value']:.2f}" for r in rows],
            textposition="auto",
            customdata=[r.get("pearson", "") for r in rows],
            hovertemplate="%{y}: %{text}<br>Pearson r %{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1])
    return Figure(
        "associations",
        f"Columns against {target}",
        f"How strongly each column goes with {target}, the strongest first; orange bars are "
        "negative correlations.",
        _layout(
            fig,
            x=f"association with {target} (0 none, 1 complete)",
            y="column",
            height=max(240, 26 * len(rows) + 90),
        ),
    )
