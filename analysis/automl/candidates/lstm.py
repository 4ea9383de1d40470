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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_regressor
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..problem import REGRESSION
from .base import Candidate, SearchSpace, choice, float_range, int_range, model_code

TIMESTEPS = 8
# The last share of its training rows the network holds out to stop early (Keras's
# validation_split). On a limit too short for cross-validation, its score there is the
# candidate's estimate (search.py, 4.).
VALIDATION_SPLIT = 0.1
NETWORK_FILE = "model.keras"
PREDICT_BATCH = 4096  # rows of one network call when predicting


@dataclass(frozen=True)
class LSTMCandidate(Candidate):
    name: str = "lstm"
    label: str = "LSTM neural network"
    description: str = (
        "A Keras LSTM that reads each row's features as a sequence of "
        f"{TIMESTEPS} steps, then a dense output layer."
    )
    validation_split: float = VALIDATION_SPLIT
    folds_stop_on_clock: bool = True
    budget_weight: float = 0.8
    packages: tuple[tuple[str, ...], ...] = (("tensorflow-cpu", "tensorflow"), ("keras",))
    model_file: str = NETWORK_FILE
    model_size_note: str = (
        "The network's size does not depend on the rows ({megabytes} MB); each epoch\n"
        "takes time in proportion to them."
    )

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

    def build_estimator(self, params: dict[str, Any], *, task: str, seed: int) -> LSTMEstimator:
        estimator = LSTMRegressor if task == REGRESSION else LSTMClassifier
        return estimator(seed=seed, **params)

    def set_clock(self, estimator: LSTMEstimator, seconds: float | None) -> None:
        estimator.set_params(time_limit=seconds)

    def settle(self, estimator: LSTMEstimator) -> None:
        estimator.set_params(**estimator.trained_settings())

    def to_onnx(self, estimator, n_inputs: int, *, task: str) -> bytes:
        raise ValueError("the LSTM keeps Keras (no Keras-to-ONNX converter is installed)")

    def fast_function(self, estimator: LSTMEstimator):
        """The network as one traced TensorFlow function of preprocessed inputs:
        `Model.predict` sets up a data pipeline on every call, the cost that matters for a
        row; the traced call skips it and computes the same layers."""
        import tensorflow as tf

        network = estimator.model_
        spec = tf.TensorSpec([None, *network.input_shape[1:]], tf.float32)
        traced = tf.function(lambda batch: network(batch, training=False), input_signature=[spec])
        return lambda inputs: traced(to_sequences(inputs))

    def export_code(self, params: dict[str, Any], *, task: str, seed: int, model_inputs: int):
        """The network's export (lstm.export.j2): train.py builds and fits the layers of
        `build_network` with Keras, and model_io.py folds rows as `to_sequences` does."""
        settings = {**self.default_params(task), **params}
        hyper_parameters = {
            "units": int(settings["units"]),
            "epochs": int(settings["epochs"]),
            "batch_size": int(settings["batch_size"]),
            "learning_rate": float(settings["learning_rate"]),
            "patience": int(settings["patience"]),
            "timesteps": TIMESTEPS,
            "validation_split": VALIDATION_SPLIT,
        }
        return model_code(
            "lstm.export.j2",
            model_class="keras.Sequential",
            hyper_parameters=hyper_parameters,
            task=task,
            model_file=self.model_file,
            model_inputs=model_inputs,
            **hyper_parameters,
        )

    def save_export(self, estimator: LSTMEstimator, directory: Path) -> Path:
        """The network alone, in Keras's own format: the exported scripts rebuild the rest."""
        path = directory / NETWORK_FILE
        estimator.model_.save(path)
        return path


LSTM = LSTMCandidate()


def to_sequences(features: np.ndarray, timesteps: int = TIMESTEPS) -> np.ndarray:
    """Fold each row of `features` into `timesteps` steps, padding the end with zeros."""
    features = np.asarray(features, dtype="float32")
    width = math.ceil(features.shape[1] / timesteps)
    padded = np.zeros((features.shape[0], timesteps * width), dtype="float32")
    padded[:, : features.shape[1]] = features
    return padded.reshape(features.shape[0], timesteps, width)


class LSTMEstimator(BaseEstimator):
    """Keras LSTM with the fit/predict interface of scikit-learn (LSTMRegressor and
    LSTMClassifier below say what the network predicts).

    Training stops early when the loss on the last VALIDATION_SPLIT of the rows stops
    improving, or when `time_limit` seconds have passed; `epochs_` records how many epochs
    ran, and `validation_start_` where those held-out rows begin. `seed` sets Keras's
    seeds at the start of each fit, so the same data and seed train the same network.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        units: int = 32,
        epochs: int = 40,
        batch_size: int = 256,
        learning_rate: float = 0.003,
        patience: int = 4,
        time_limit: float | None = None,
    ):
        self.seed = seed
        self.units = units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.time_limit = time_limit

    def fit(self, X, y):
        import keras

        # Keras's own split needs one training row besides the held-out share.
        X, y = validate_data(self, X, y, ensure_min_samples=2, y_numeric=is_regressor(self))
        keras.utils.set_random_seed(self.seed)
        sequences = to_sequences(X)
        y, outputs, loss, scale, offset = self._targets(y)
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

    def _targets(self, y):
        """`y` as the network learns it, its output count and loss, and the rescaling."""
        raise NotImplementedError

    def _network_output(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        sequences = to_sequences(X)
        # The batches `Model.predict` would make, each through the same compiled step, but
        # without the data pipeline `predict` sets up on every call: that setup is most of
        # the cost of the many small calls of permutation importance (importance.py).
        batches = range(0, len(sequences), PREDICT_BATCH)
        return np.concatenate(
            [
                np.asarray(self.model_.predict_on_batch(sequences[i : i + PREDICT_BATCH]))
                for i in batches
            ]
        )

    def trained_settings(self) -> dict[str, Any]:
        """The settings that train this network again: the epochs it ran, and no clock."""
        check_is_fitted(self)
        return {**self.get_params(), "epochs": self.epochs_, "time_limit": None}

    def __getstate__(self):
        """Pickled with its network in Keras's own format (a .keras file's bytes): a Keras
        model is not meant to be pickled, and its own format is what Keras promises to read."""
        state = dict(super().__getstate__())  # a copy: it may be the live __dict__
        if "model_" in state:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / NETWORK_FILE
                self.model_.save(path)
                state["model_"] = path.read_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("model_"), bytes):
            import keras

            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / NETWORK_FILE
                path.write_bytes(state["model_"])
                state["model_"] = keras.models.load_model(path)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The dense rows of a preprocessed table; the preprocessing imputes missing values.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


class LSTMRegressor(RegressorMixin, LSTMEstimator):
    """One value per row, rescaled by the training target's mean and standard deviation."""

    def _targets(self, y):
        y = y.astype("float32")
        return y, 1, "mse", float(y.std()) or 1.0, float(y.mean())

    def predict(self, X):
        return self._network_output(X)[:, 0].astype("float64")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A network stopped early on scikit-learn's toy tables of 100-200 rows does not
        # reach the R² of 0.5 its estimator checks ask of a regressor.
        tags.regressor_tags.poor_score = True
        return tags


class LSTMClassifier(ClassifierMixin, LSTMEstimator):
    """Class probabilities from a softmax layer, one output per class of `classes_`.

    Whole-number labels 0..k-1 are the platform's class indices (prepare.encode_target),
    and every index up to the largest is a class: a training set that lacks a class in
    the middle still gives a probability column for it, where the run's classes expect it.
    Any other labels (text, negative numbers) are the sorted distinct values of `y`.
    """

    def _targets(self, y):
        check_classification_targets(y)
        if y.dtype.kind in "iu" and y.min() >= 0:
            self.classes_ = np.arange(int(y.max()) + 1)
        else:
            self.classes_ = np.unique(y)
        encoded = np.searchsorted(self.classes_, y).astype("int64")
        return encoded, len(self.classes_), "sparse_categorical_crossentropy", None, None

    def predict(self, X):
        indices = self._network_output(X).argmax(axis=1)
        return self.classes_[indices]

    def predict_proba(self, X):
        return self._network_output(X).astype("float64")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Same as the regressor: the checks' accuracy bar on toy tables is not met.
        tags.classifier_tags.poor_score = True
        return tags


def build_network(input_shape, *, outputs: int, units: int, scale=None, offset=None):
    """The network; the code export writes the same layers into train.py.

    With a `scale` (regression) it gives one value, rescaled by `scale` and `offset`;
    without, a probability for each of `outputs` classes.
    """
    import keras

    layers = [keras.Input(shape=input_shape), keras.layers.LSTM(units)]
    if scale is not None:
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
