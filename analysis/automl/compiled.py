"""A trained candidate compiled for serving: its estimator as ONNX, its preprocessing as numpy.

Predicting one row through the scikit-learn pipeline costs milliseconds of per-call
overhead (pandas, validation); the compiled model costs tens of microseconds. Beside the
model files of fitted.py (model.json and the Pipeline's artifact), compiling writes:

    model.onnx      the estimator as an ONNX graph (skl2onnx; onnxmltools for XGBoost)
    compiled.json   its SHA-256, the checksums of the model files it was compiled from,
                    the converter versions, or the reason the estimator was not converted

The preprocessing runs as numpy tables (compiled_prep.py; skl2onnx cannot convert it).
The LSTM is not converted (tf2onnx is not a dependency): it keeps Keras, called directly
as a compiled function rather than through `Model.predict`, whose per-call setup is the
cost that matters for one row. Every other family falls back to its own estimator (after the
numpy preprocessing) when conversion fails or the model is too big to convert quickly,
and the reason is kept in compiled.json.

Precision: linear models run in float64 and agree with scikit-learn to rounding; trees
and forests, like scikit-learn, compare float32 inputs, and give float32 values; XGBoost
computes in float32 as XGBoost does. Outputs agree within 1e-5 relative to their size.

Django-free: serving.py loads these, the trainer writes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .candidates import get_candidate
from .compiled_prep import FastPreprocessor
from .fitted import ARTIFACT_FILE, META_FILE, FittedModel
from .problem import REGRESSION

ONNX_FILE = "model.onnx"
RECORD_FILE = "compiled.json"
SOURCE_FILES = (META_FILE, ARTIFACT_FILE)
# skl2onnx spends about 13 µs and 1 KB of memory per tree node: a forest of deep trees on
# a big table (millions of nodes) would cost a training minutes and gigabytes. Past this
# many nodes the estimator serves itself, after the numpy preprocessing.
COMPILE_MAX_NODES = 200_000


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_checksums(directory: Path) -> dict[str, str]:
    """Checksums of the model files a compiled model was made from."""
    return {name: sha256(directory / name) for name in SOURCE_FILES if (directory / name).exists()}


def to_onnx(model: FittedModel, n_inputs: int) -> bytes:
    """The estimator of `model` as ONNX bytes; raises when it cannot be converted."""
    estimator = model.estimator
    nodes = _tree_nodes(estimator)
    if nodes > COMPILE_MAX_NODES:
        raise ValueError(
            f"{nodes:,} tree nodes: more than {COMPILE_MAX_NODES:,} to compile in a "
            "reasonable time and memory"
        )
    return get_candidate(model.family).to_onnx(estimator, n_inputs, task=model.task)


def compile_model(model: FittedModel, directory: Path) -> dict:
    """Compile `model`, saved in `directory`, and write model.onnx and compiled.json there.

    Returns the record written; `record["onnx"]` is None with a `reason` when the model
    is served by its own estimator instead. Never raises for a model it cannot convert.
    """
    record: dict = {"sources": source_checksums(directory), "versions": _versions()}
    onnx_path = directory / ONNX_FILE
    try:
        fast = FastPreprocessor.build(model.features, model.preprocessor)
        n_inputs = _n_inputs(fast)
        graph = to_onnx(model, n_inputs)
        _write(onnx_path, graph)
        record.update(onnx=ONNX_FILE, sha256=hashlib.sha256(graph).hexdigest(), inputs=n_inputs)
    except Exception as exc:  # any converter failure: serve the pipeline, say why
        onnx_path.unlink(missing_ok=True)
        record.update(onnx=None, reason=f"{type(exc).__name__}: {exc}"[:500])
    _write(directory / RECORD_FILE, json.dumps(record, indent=2).encode())
    return record


def _write(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: web processes may compile the same model at once."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def read_record(directory: Path) -> dict | None:
    path = directory / RECORD_FILE
    return json.loads(path.read_text()) if path.exists() else None


@dataclass
class CompiledModel:
    """A fitted model with its fast path; `predict_encoded` answers as FittedModel's does.

    `path` says how it predicts: "onnx"; "keras" (the LSTM's network called directly);
    "estimator" (the numpy preprocessing, then the estimator's own predict: the graph
    could not be made or trusted, `reason` says why); or "pipeline" (scikit-learn's
    pipeline as trained, when even the preprocessing has no fast path).
    """

    model: FittedModel
    path: str
    reason: str | None = None
    fast: FastPreprocessor | None = None
    session: object | None = None
    output_names: tuple[str, ...] = ()

    @classmethod
    def load(cls, directory: Path, model: FittedModel | None = None) -> CompiledModel:
        """Load the model in `directory` and its compiled form; a model saved before
        compiling existed (no compiled.json) is compiled now, once, and the files kept."""
        model = model or FittedModel.load(directory)
        record = read_record(directory)
        if record is None or record.get("sources") != source_checksums(directory):
            try:
                record = compile_model(model, directory)
            except OSError as exc:  # a read-only model folder: serve the pipeline
                return cls(model, "pipeline", reason=f"not compiled: {exc}")
        try:
            fast = FastPreprocessor.build(model.features, model.preprocessor)
        except ValueError as exc:
            return cls(model, "pipeline", reason=str(exc))
        network = get_candidate(model.family).fast_function(model.estimator)
        if network is not None:
            return cls(model, "keras", fast=fast, session=network, reason=record.get("reason"))
        if not record.get("onnx"):
            return cls(model, "estimator", reason=record.get("reason"), fast=fast)
        graph = (directory / record["onnx"]).read_bytes()
        if hashlib.sha256(graph).hexdigest() != record["sha256"]:
            return cls(
                model, "estimator", reason="model.onnx does not match its checksum", fast=fast
            )
        session = _session(graph)
        names = tuple(output.name for output in session.get_outputs())
        return cls(model, "onnx", fast=fast, session=session, output_names=names)

    def predict_rows(self, rows: list[dict]) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded predictions and probabilities for records (column → value)."""
        if self.path == "pipeline":
            import pandas as pd

            return self.model.predict_encoded(pd.DataFrame.from_records(rows))
        return self.predict_inputs(self.fast.transform_rows(rows))

    def predict_inputs(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded predictions and probabilities from preprocessed model inputs."""
        if self.path == "keras":
            output = np.asarray(self.session(inputs))
        elif self.path == "estimator":
            output = _estimator_output(self.model.estimator, self.model.task, inputs)
        else:
            dtype = "float32" if get_candidate(self.model.family).onnx_float32 else "float64"
            outputs = self.session.run(None, {"X": inputs.astype(dtype)})
            output = outputs[0] if self.model.task == REGRESSION else outputs[-1]
        if self.model.task == REGRESSION:
            return np.asarray(output, dtype="float64").reshape(-1), None
        proba = np.asarray(output, dtype="float64")
        proba /= proba.sum(axis=1, keepdims=True)
        return proba.argmax(axis=1), proba


def _estimator_output(estimator, task: str, inputs: np.ndarray) -> np.ndarray:
    """The estimator's predictions, or class probabilities, for preprocessed `inputs`.

    A random forest's own predict spends about 10 ms on one row setting up its parallel
    loop; its trees are summed here directly, in the same order and with the same
    arithmetic as scikit-learn's loop (RandomForest*.predict / predict_proba, with
    n_jobs=None), which gives the same values in about 0.5 ms.
    """
    trees = getattr(estimator, "estimators_", None)
    forest = type(estimator).__name__ in ("RandomForestRegressor", "RandomForestClassifier")
    if not forest or not trees:
        return estimator.predict(inputs) if task == REGRESSION else estimator.predict_proba(inputs)
    features = np.ascontiguousarray(inputs, dtype="float32")  # as the trees compare them
    if task == REGRESSION:
        total = np.zeros(len(features), dtype="float64")
        for tree in trees:
            total += tree.tree_.predict(features)[:, 0]
        return total / len(trees)
    n_classes = len(estimator.classes_)
    total = np.zeros((len(features), n_classes), dtype="float64")
    for tree in trees:
        proba = tree.tree_.predict(features)[:, :n_classes]
        normalizer = proba.sum(axis=1)[:, np.newaxis]
        normalizer[normalizer == 0.0] = 1.0
        total += proba / normalizer
    return total / len(trees)


def _tree_nodes(estimator) -> int:
    """The nodes of a scikit-learn tree or forest (0 for other estimators)."""
    trees = getattr(estimator, "estimators_", None) or [estimator]
    return sum(t.tree_.node_count for t in trees if hasattr(t, "tree_"))


def _n_inputs(fast: FastPreprocessor) -> int:
    return len(fast.numeric) + sum(t.values.shape[1] for _, t in fast.tables)


def _session(graph: bytes):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Serving processes answer many requests at once; one thread each keeps them fair.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("skl2onnx", "onnxmltools", "onnxruntime", "scikit-learn", "xgboost-cpu"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found
