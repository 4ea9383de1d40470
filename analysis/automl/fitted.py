"""A trained candidate: its fitted scikit-learn Pipeline, saved as one artifact with its checksum.

On disk:
    model.json      family, task, target, classes, feature columns, and the SHA-256 of
                    the artifact, checked before the artifact is loaded
    model.joblib    the fitted Pipeline (candidates/base.py `assemble`: prepare,
                    preprocess, model); the LSTM's network is inside it in Keras's own
                    format (candidates/lstm.py)

Only files PROMISE wrote itself are ever loaded here; user uploads are never unpickled. A
model saved before the Pipeline was one artifact (a preprocessor.joblib beside the
estimator's files) is refused with a sentence asking to train it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .candidates import get_candidate
from .fingerprint import file_sha256
from .preprocess import FeatureSpec
from .problem import REGRESSION

META_FILE = "model.json"
ARTIFACT_FILE = "model.joblib"


class ModelFormatError(ValueError):
    """The saved model cannot be loaded, said in one sentence for the user."""


@dataclass
class FittedModel:
    family: str
    task: str
    target: str
    classes: list | None
    features: FeatureSpec
    pipeline: Any  # the fitted Pipeline: prepare, preprocess, model

    @property
    def preprocessor(self):
        """The fitted ColumnTransformer (model inputs from prepared columns)."""
        return self.pipeline.named_steps["preprocess"]

    @property
    def estimator(self):
        return self.pipeline.named_steps["model"]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model inputs of `frame`: what the Pipeline gives its estimator."""
        return self.pipeline[:-1].transform(frame)

    def predict_encoded(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Predictions as numbers or class indices, and class probabilities when classifying."""
        return encoded_output(self.pipeline, self.task, frame)

    def predict(self, frame: pd.DataFrame) -> list:
        """Predicted values, or class labels, one per row of `frame`."""
        return self.decode(self.predict_encoded(frame)[0])

    def decode(self, encoded: np.ndarray) -> list:
        """Encoded predictions as the target's own values."""
        if self.task == REGRESSION:
            return encoded.tolist()
        return [self.classes[i] for i in encoded]

    def save(self, directory: Path) -> list[Path]:
        """Write model.json and the artifact into `directory`; returns their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        get_candidate(self.family).settle(self.estimator)
        artifact, meta_path = directory / ARTIFACT_FILE, directory / META_FILE
        joblib.dump(self.pipeline, artifact)
        meta = {
            "family": self.family,
            "task": self.task,
            "target": self.target,
            "classes": self.classes,
            "features": self.features.to_dict(),
            "artifact": ARTIFACT_FILE,
            "sha256": file_sha256(artifact),
        }
        meta_path.write_text(json.dumps(meta, indent=2))
        return [meta_path, artifact]

    @classmethod
    def load(cls, directory: Path) -> FittedModel:
        """The model `save` wrote into `directory`; ModelFormatError when it was saved in an
        earlier format or its artifact does not match its checksum."""
        meta = read_meta(directory)
        artifact = directory / meta["artifact"]
        if file_sha256(artifact) != meta["sha256"]:
            raise ModelFormatError("This model's file does not match its checksum; train it again.")
        return cls(
            family=meta["family"],
            task=meta["task"],
            target=meta["target"],
            classes=meta["classes"],
            features=FeatureSpec.from_dict(meta["features"]),
            pipeline=joblib.load(artifact),  # checked above: a file PROMISE wrote
        )


def read_meta(directory: Path) -> dict:
    """model.json of a model saved as one Pipeline; ModelFormatError for an earlier format."""
    meta = json.loads((directory / META_FILE).read_text())
    if "sha256" not in meta:
        raise ModelFormatError(
            "This model was saved by an earlier version of PROMISE, "
            "in a format it no longer reads; train it again."
        )
    return meta


def encoded_output(pipeline, task: str, frame: pd.DataFrame):
    """`pipeline`'s predictions for `frame` as numbers or class indices, and its class
    probabilities when classifying (None for a regression)."""
    if task == REGRESSION:
        return np.asarray(pipeline.predict(frame), dtype="float64"), None
    proba = np.asarray(pipeline.predict_proba(frame), dtype="float64")
    # float32 outputs (XGBoost, Keras) can miss a sum of one by a rounding error.
    proba /= proba.sum(axis=1, keepdims=True)
    return proba.argmax(axis=1), proba
