"""Per-prediction explanations for the predict API and the prediction page: each feature's
contribution to the model's output for a record (automl/explain.py says how each family is
explained and in which units).

The records are checked as predictions are (prediction_input), and the trained model comes
from serving's per-process cache. The linear model's reference row is the mean of up to
BACKGROUND_ROWS rows of the run's holdout (read once per process and model), or every
input at zero when the run folder no longer has it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from . import file_store, serving
from .automl.explain import EXPLAINED, NOT_EXPLAINED, NotExplained, explain
from .models import CandidateResult
from .prediction_input import check_rows

__all__ = ["MAX_EXPLAINED_ROWS", "NotExplained", "explain_rows", "explainable"]

# Explaining costs more than predicting (a forest walks every tree per input): fewer rows.
MAX_EXPLAINED_ROWS = 100
BACKGROUND_ROWS = 200
HOLDOUT_FILE = "holdout.parquet"


def explainable(candidate: CandidateResult) -> bool:
    return candidate.name in EXPLAINED


def explain_rows(candidate: CandidateResult, rows: list) -> list[dict]:
    """One explanation per record of `rows`; NotExplained (with its sentence) for a family
    without contributions or too many records, InputRefused for records the model refuses."""
    if not explainable(candidate):
        raise NotExplained(NOT_EXPLAINED)
    if isinstance(rows, list) and len(rows) > MAX_EXPLAINED_ROWS:
        raise NotExplained(
            f"Explanations are given for at most {MAX_EXPLAINED_ROWS} records per request; "
            f"this one sent {len(rows)}."
        )
    checked = check_rows(serving.feature_schema(candidate), rows)
    model = serving.MODELS.get(candidate.pk, candidate.model_dir, None).model.model
    background = None
    if model.family == "linear":  # the only family whose explainer reads a background
        # The run's folder holds the holdout, two levels above the model's folder.
        background = _background(str(Path(candidate.model_dir).parent.parent / HOLDOUT_FILE))
    return explain(model, pd.DataFrame.from_records(checked.rows), background)


@functools.lru_cache(maxsize=16)
def _background(path: str) -> pd.DataFrame | None:
    """The holdout at `path`: a local path, or a stored file's name (file_store)."""
    if not Path(path).is_absolute():
        if not file_store.storage().exists(path):
            return None
        with file_store.local_copy(path) as local:
            return _background(str(local))
    if not Path(path).exists():
        return None
    frame = pd.read_parquet(path)
    if len(frame) > BACKGROUND_ROWS:
        frame = frame.sample(BACKGROUND_ROWS, random_state=0)
    return frame
