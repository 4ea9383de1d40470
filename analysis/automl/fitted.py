"""A trained candidate: the fitted preprocessing and model, saved and loaded as plain files.

On disk (the files the code export ships; the LSTM's lstm.json stays here):
    model.json          family, task, target, classes and feature columns
    preprocessor.joblib the fitted scikit-learn ColumnTransformer
    the estimator's own files, as its family's `Candidate.save` writes them:
    model.joblib        the fitted estimator (the scikit-learn-style families), or
    model.keras         the Keras network of the LSTM, and lstm.json its settings

Only files PROMISE wrote itself are ever loaded here; user uploads are never unpickled.
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
from .preprocess import FeatureSpec, prepare_frame
from .problem import REGRESSION


@dataclass
class FittedModel:
    family: str
    task: str
    target: str
    classes: list | None
    features: FeatureSpec
    preprocessor: Any
    estimator: Any

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.preprocessor.transform(prepare_frame(frame, self.features))

    def predict_encoded(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Predictions as numbers or class indices, and class probabilities when classifying."""
        inputs = self.transform(frame)
        if self.task == REGRESSION:
            return np.asarray(self.estimator.predict(inputs), dtype="float64"), None
        proba = np.asarray(self.estimator.predict_proba(inputs), dtype="float64")
        # float32 outputs (XGBoost, Keras) can miss a sum of one by a rounding error.
        proba /= proba.sum(axis=1, keepdims=True)
        return proba.argmax(axis=1), proba

    def predict(self, frame: pd.DataFrame) -> list:
        """Predicted values, or class labels, one per row of `frame`."""
        return self.decode(self.predict_encoded(frame)[0])

    def decode(self, encoded: np.ndarray) -> list:
        """Encoded predictions as the target's own values."""
        if self.task == REGRESSION:
            return encoded.tolist()
        return [self.classes[i] for i in encoded]

    def save(self, directory: Path) -> list[Path]:
        """Write the model files into `directory`; returns their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "family": self.family,
            "task": self.task,
            "target": self.target,
            "classes": self.classes,
            "features": self.features.to_dict(),
        }
        files = [directory / "model.json", directory / "preprocessor.joblib"]
        files[0].write_text(json.dumps(meta, indent=2))
        joblib.dump(self.preprocessor, files[1])
        files += get_candidate(self.family).save(self.estimator, directory)
        return files

    @classmethod
    def load(cls, directory: Path) -> FittedModel:
        meta = json.loads((directory / "model.json").read_text())
        estimator = get_candidate(meta["family"]).load(directory, task=meta["task"])
        return cls(
            family=meta["family"],
            task=meta["task"],
            target=meta["target"],
            classes=meta["classes"],
            features=FeatureSpec.from_dict(meta["features"]),
            preprocessor=joblib.load(directory / "preprocessor.joblib"),
            estimator=estimator,
        )
