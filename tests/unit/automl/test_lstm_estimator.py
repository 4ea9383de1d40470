"""The LSTM estimators against scikit-learn's estimator checks, and their saved settings.

Every check that parametrize_with_checks generates for them runs, and none is expected
to fail (EXPECTED_FAILURES is empty). What the checks do not assert, and why:

- The score bars of check_regressors_train (R² > 0.5) and check_classifiers_train
  (accuracy > 0.83): the estimators carry the `poor_score` tag, because a network
  stopped early on the checks' toy tables of 100-200 rows does not reach them.
- check_array_api_input: scikit-learn skips it unless SCIPY_ARRAY_API=1 is set before
  SciPy is imported; it would check that array-API dispatch on NumPy input changes
  nothing, and the estimators hand their input to Keras as NumPy arrays either way.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from analysis.automl.candidates.base import assemble
from analysis.automl.candidates.lstm import LSTM, LSTMClassifier, LSTMRegressor
from analysis.automl.fitted import FittedModel, ModelFormatError
from analysis.automl.preprocess import FeatureSpec, build_preprocessor

# Tiny networks for one epoch in one batch: the checks fit a few hundred of them.
TINY = {"units": 4, "epochs": 1, "batch_size": 256, "seed": 0}
# Check name -> why it fails. None does.
EXPECTED_FAILURES: dict[str, str] = {}


@pytest.fixture
def eager_keras():
    """Run Keras step by step: tracing a graph costs more than fitting a tiny network.
    The checks passed the same way with graphs; only the time differs."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(before)


# Eager mode leaves tf.data to graphs, which is fine; a one-class fit has a softmax of one.
@pytest.mark.filterwarnings("ignore:Even though the `tf.config:UserWarning")
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1:UserWarning")
@parametrize_with_checks(
    [LSTMRegressor(**TINY), LSTMClassifier(**TINY)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILURES,
)
def test_it_follows_scikit_learn_conventions(estimator, check, eager_keras):
    check(estimator)


def test_a_class_missing_from_training_keeps_its_probability_column():
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = np.where(x[:, 0] > 0, 2, 0)  # class 1 of 0..2 has no training row

    model = LSTMClassifier(**TINY).fit(x, y)

    assert model.classes_.tolist() == [0, 1, 2]
    assert model.predict_proba(x).shape == (40, 3)


def _trained_model(task: str, directory) -> FittedModel:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    y = frame["a"].to_numpy() if task == "regression" else (frame["a"] > 0).astype(int).to_numpy()
    features = FeatureSpec(numeric=["a", "b", "c"], categorical=[], datetime=[])
    preprocessor = build_preprocessor(features, task, seed=0)
    inputs = preprocessor.fit_transform(frame, y)
    params = {"units": 5, "epochs": 3, "batch_size": 16, "learning_rate": 0.01, "patience": 1}
    estimator = LSTM.build_estimator({**params, "time_limit": 60.0}, task=task, seed=7)
    estimator.fit(inputs, y)
    model = FittedModel(
        family="lstm",
        task=task,
        target="y",
        classes=None if task == "regression" else [0, 1],
        features=features,
        pipeline=assemble(features, preprocessor, estimator),
    )
    model.save(directory)
    return model


@pytest.mark.parametrize("task", ["regression", "binary"])
def test_it_loads_with_the_settings_it_trained_with(task, tmp_path):
    trained = _trained_model(task, tmp_path).estimator

    loaded = FittedModel.load(tmp_path).estimator

    # The settings that train it again: the epochs it ran, no clock.
    assert loaded.get_params() == {
        "seed": 7,
        "units": 5,
        "epochs": trained.epochs_,
        "batch_size": 16,
        "learning_rate": 0.01,
        "patience": 1,
        "time_limit": None,
    }
    assert (loaded.epochs_, loaded.validation_start_) == (trained.epochs_, 72)
    assert loaded.n_features_in_ == 3
    inputs = np.ones((4, 3))
    np.testing.assert_array_equal(loaded.predict(inputs), trained.predict(inputs))


def test_a_model_saved_in_the_earlier_format_is_refused_with_a_sentence(tmp_path):
    # Before the Pipeline was one artifact: model.json without the artifact's checksum,
    # beside preprocessor.joblib and model.keras.
    (tmp_path / "model.json").write_text('{"family": "lstm", "task": "regression"}')

    with pytest.raises(ModelFormatError, match="earlier version of PROMISE.*train it again"):
        FittedModel.load(tmp_path)


def test_a_model_whose_artifact_was_changed_is_not_loaded(tmp_path):
    _trained_model("regression", tmp_path)
    with (tmp_path / "model.joblib").open("ab") as artifact:
        artifact.write(b"\0")

    with pytest.raises(ModelFormatError, match="checksum"):
        FittedModel.load(tmp_path)
