"""The files an export ships, written from the saved Pipeline: stock-library files, the
same bytes each time they are asked for, new ones once the model is trained again."""

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis.automl.candidates import get_candidate
from analysis.automl.export import shipped_files
from analysis.automl.fitted import FittedModel, read_meta
from analysis.automl.preprocess import FeatureSpec

FEATURES = FeatureSpec(numeric=["a", "b"], categorical=["c"], datetime=[])
TINY_LSTM = {"units": 4, "epochs": 2, "batch_size": 32}


def save(family: str, directory, seed: int = 0) -> FittedModel:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"a": rng.normal(size=80), "b": rng.normal(size=80), "c": rng.choice(["x", "y"], 80)}
    )
    y = frame["a"].to_numpy()
    params = TINY_LSTM if family == "lstm" else {}
    pipeline = get_candidate(family).build(params, features=FEATURES, task="regression", seed=0)
    pipeline.fit(frame, y)
    model = FittedModel(family, "regression", "y", None, FEATURES, pipeline)
    model.save(directory)
    return model


@pytest.mark.parametrize("family", ["linear", "lstm"])
def test_asking_twice_ships_the_same_bytes(family, tmp_path):
    save(family, tmp_path)

    first = [path.read_bytes() for path in shipped_files(tmp_path, get_candidate(family))]
    second = [path.read_bytes() for path in shipped_files(tmp_path, get_candidate(family))]

    assert first == second


def test_they_are_the_pipeline_steps_apart(tmp_path):
    model = save("linear", tmp_path)

    names = [path.name for path in shipped_files(tmp_path, get_candidate("linear"))]
    folder = tmp_path / f"export-{read_meta(tmp_path)['sha256'][:16]}"
    estimator = joblib.load(folder / "model.joblib")

    assert names == ["model.json", "preprocessor.joblib", "model.joblib"]
    np.testing.assert_array_equal(estimator.coef_, model.estimator.coef_)


def test_a_model_trained_again_ships_its_new_files_only(tmp_path):
    save("linear", tmp_path, seed=0)
    before = shipped_files(tmp_path, get_candidate("linear"))[-1].parent
    save("linear", tmp_path, seed=1)

    after = shipped_files(tmp_path, get_candidate("linear"))[-1].parent

    assert after != before
    assert [path.name for path in tmp_path.glob("export-*")] == [after.name]
