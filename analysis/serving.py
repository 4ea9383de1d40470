"""Predictions from trained candidates, with the loaded models kept in memory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .automl.fitted import FittedModel
from .models import CandidateResult

MAX_ROWS_PER_REQUEST = 10_000


class PredictionError(Exception):
    """The rows sent for prediction cannot be used, said in one sentence."""


@lru_cache(maxsize=16)
def _load(model_dir: str) -> FittedModel:
    return FittedModel.load(Path(model_dir))


def predict_rows(candidate: CandidateResult, rows: list[dict]) -> dict:
    """Predict for `rows` (column → value); class probabilities come with classification."""
    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise PredictionError("This candidate has no trained model.")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise PredictionError('Send "rows": a list of objects mapping column names to values.')
    if len(rows) > MAX_ROWS_PER_REQUEST:
        raise PredictionError(f"Send at most {MAX_ROWS_PER_REQUEST} rows per request.")
    model = _load(candidate.model_dir)
    frame = pd.DataFrame.from_records(rows)
    if not set(frame.columns) & set(model.features.columns):
        raise PredictionError(
            "None of the model's columns were sent; it expects: "
            + ", ".join(model.features.columns)
            + "."
        )
    known = set(model.features.columns)
    unknown = sorted(set(frame.columns) - known - {model.target})
    encoded, proba = model.predict_encoded(frame)
    result = {"model": candidate.name, "predictions": model.decode(encoded)}
    if proba is not None:
        labels = [str(c) for c in model.classes]
        result["probabilities"] = [
            dict(zip(labels, p.round(6).tolist(), strict=True)) for p in proba
        ]
    if unknown:
        result["ignored_columns"] = unknown
    return result


def feature_columns(candidate: CandidateResult) -> list[str]:
    return _load(candidate.model_dir).features.columns
