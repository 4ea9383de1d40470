"""LSTM family: a small Keras recurrent network, wrapped as a scikit-learn estimator.

A table row has no time order of its own, so the row's preprocessed feature vector is
read as a short sequence: padded with zeros to TIMESTEPS × width values and folded into
TIMESTEPS steps of `width` features each (width = ceil(n_features / TIMESTEPS)). The
LSTM reads the steps in order and a dense layer gives the prediction: class
probabilities (softmax), or one value rescaled by the training target's mean and
standard deviation, which keeps the loss well conditioned whatever the target's scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .base import SearchSpace, choice, float_range, int_range

TIMESTEPS = 8
# The last share of its training rows the network holds out to stop early (Keras's
# validation_split). On a limit too short for cross-validation, its score there is the
# candidate's estimate (search.py, 4.).
VALIDATION_SPLIT = 0.1


@dataclass(frozen=True)
class LSTMCandidate:
    name: str = "lstm"
    label: str = "LSTM neural network"
    description: str = (
        "A Keras LSTM that reads each row's features as a sequence of "
        f"{TIMESTEPS} steps, then a dense output layer."
    )
    validation_split: float = VALIDATION_SPLIT

    def default_params(self, task: str) -> dict[str, Any]:
        return {"units": 32, "epochs": 40, "batch_size": 256, "learning_rate": 0.003, "patience": 4}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> SearchSpace:
        """Few trials and two folds: each fold trains a network, the costliest fit of the five."""
        defaults = self.default_params(task)
        return SearchSpace(
            dimensions={
                "units": int_range(16, 64, log=True),
                "learning_rate": float_range(1e-3, 1e-2, log=True),
                "batch_size": choice(64, 128, 256),
            },
            init={k: defaults[k] for k in ("units", "learning_rate", "batch_size")},
            fixed={"epochs": defaults["epochs"], "patience": defaults["patience"]},
            trial_cost=60.0,
            fit_overhead=3.0,
            min_trials=1,
            max_trials=4,
            max_folds=2,
            clocked=True,
        )

    def build(self, params: dict[str, Any], *, task: str, seed: int) -> LSTMEstimator:
        return LSTMEstimator(task=task, seed=seed, **params)


LSTM = LSTMCandidate()


def to_sequences(features: np.ndarray, timesteps: int = TIMESTEPS) -> np.ndarray:
    """Fold each row of `features` into `timesteps` steps, padding the end with zeros."""
    features = np.asarray(features, dtype="float32")
    width = math.ceil(features.shape[1] / timesteps)
    padded = np.zeros((features.shape[0], timesteps * width), dtype="float32")
    padded[:, : features.shape[1]] = features
    return padded.reshape(features.shape[0], timesteps, width)


class LSTMEstimator(BaseEstimator):
    """Keras LSTM with the fit/predict interface of scikit-learn.

    `y` holds numbers for regression and class indices 0..k-1 for classification.
    Training stops early when the loss on the last VALIDATION_SPLIT of the rows stops
    improving, or when `time_limit` seconds have passed; `epochs_` records how many epochs
    ran, and `validation_start_` where those held-out rows begin.
    """

    def __init__(
        self,
        *,
        task: str,
        seed: int,
        units: int = 32,
        epochs: int = 40,
        batch_size: int = 256,
        learning_rate: float = 0.003,
        patience: int = 4,
        time_limit: float | None = None,
    ):
        self.task = task
        self.seed = seed
        self.units = units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.time_limit = time_limit

    def fit(self, X, y):
        import keras

        keras.utils.set_random_seed(self.seed)
        sequences = to_sequences(X)
        y = np.asarray(y)
        if self.task == "regression":
            y = y.astype("float32")
            outputs, loss = 1, "mse"
            scale, offset = float(y.std()) or 1.0, float(y.mean())
        else:
            y = y.astype("int64")
            outputs, loss = int(y.max()) + 1, "sparse_categorical_crossentropy"
            scale = offset = None
        self.model_ = build_network(
            sequences.shape[1:], outputs=outputs, units=self.units, scale=scale, offset=offset
        )
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=loss)
        callbacks = [
            keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True),
            _TimeLimit(self.time_limit),
        ]
        history = self.model_.fit(
            sequences,
            y,
            epochs=self.epochs,
            batch_size=self.batch_size,
            validation_split=VALIDATION_SPLIT,
            callbacks=callbacks,
            verbose=0,
        )
        self.epochs_ = len(history.epoch)
        # Where the rows Keras held out begin (its own rule: the last share, rounded down).
        self.validation_start_ = int(math.floor(len(y) * (1.0 - VALIDATION_SPLIT)))
        return self

    def predict(self, X):
        output = self.model_.predict(to_sequences(X), verbose=0, batch_size=4096)
        if self.task == "regression":
            return output[:, 0].astype("float64")
        return output.argmax(axis=1)

    def predict_proba(self, X):
        return self.model_.predict(to_sequences(X), verbose=0, batch_size=4096).astype("float64")


def build_network(input_shape, *, outputs: int, units: int, scale=None, offset=None):
    """The network; the code export writes the same layers into train.py."""
    import keras

    layers = [keras.Input(shape=input_shape), keras.layers.LSTM(units)]
    if outputs == 1:
        layers += [keras.layers.Dense(1), keras.layers.Rescaling(scale=scale, offset=offset)]
    else:
        layers += [keras.layers.Dense(outputs, activation="softmax")]
    return keras.Sequential(layers)


class _TimeLimit:
    """Keras callback that ends training once `seconds` have passed (None: never)."""

    def __new__(cls, seconds: float | None):
        import keras

        class TimeLimit(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.deadline = None if seconds is None else time.monotonic() + seconds

            def on_epoch_end(self, epoch, logs=None):
                if self.deadline is not None and time.monotonic() > self.deadline:
                    self.model.stop_training = True

        return TimeLimit()
