"""Confirm trained models on the whole file: score them on every row the run did not train on.

A run that trained on a sample was scored on a holdout of that sample: a few thousand
rows, with an interval to match. `confirm_candidates` streams the file's Parquet copy
once, in batches, leaves out the rows of train.parquet (by their place in the file,
sampling.ROW_NUMBER) and the rows without a target, and scores every model asked for
on the rest. The metrics come from running sums, exactly as the exported evaluate.py
computes them, so memory stays flat in the file size: one batch, the models, and the
sorted numbers of the training rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .cluster import on_cluster
from .errors import ProblemError
from .fitted import FittedModel
from .ingest import IngestOptions, parquet_path, read_table, scan_memory_pool
from .metrics import CALIBRATION_BINS, MAPE_MIN_ABS, METRIC_LABELS
from .prepare import RunPlan
from .problem import REGRESSION
from .sampling import ROW_NUMBER

# Rows predicted at a time: big enough that the models' per-call costs vanish, small
# enough that a batch and its model inputs stay a few tens of MB.
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Confirmation:
    """One model's metrics on the rows of the file it was not trained on.

    `rows` is how many rows were scored; `unknown_class_rows` counts the labelled rows
    of a class the sample never held, which the model cannot predict and are left out.
    """

    name: str
    metrics: dict[str, float]
    rows: int
    unknown_class_rows: int = 0


@on_cluster
def confirm_candidates(
    source: str | Path,
    run_dir: Path,
    names: Sequence[str],
    *,
    options: IngestOptions | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Confirmation]:
    """Score the candidates `names` of the run in `run_dir` on the file `source`, in one pass.

    `source` is the file the run sampled, read with the same `options`; its Parquet copy
    is what is streamed. Every labelled row that is not in the run's train.parquet is
    scored, the holdout's rows included. `progress(rows_read)` is called after each batch.
    Raises ProblemError when the training rows cannot be told apart (a run sampled before
    rows were numbered, or a file read again with other settings) or none are left.
    """
    plan = RunPlan.load(run_dir)
    trained = training_rows(run_dir)
    models = {name: FittedModel.load(run_dir / "candidates" / name) for name in names}
    copy = parquet_path(source, options=options)
    if pq.read_metadata(copy).num_rows != plan.sample.total_rows:
        raise ProblemError(
            "The file has been read again with other settings since this run, so its rows "
            "no longer line up with the ones the run trained on; start a new run to "
            "confirm its models on the whole file."
        )
    wanted = {plan.target, *(c for m in models.values() for c in m.features.columns)}
    columns = [name for name in pq.read_schema(copy).names if name in wanted]
    # The column types sampling gave the training rows, so categories read the same.
    dtypes = read_table(source, options=options).dtypes.to_dict()
    types = {name: dtypes[name] for name in columns}
    totals = {name: _totals(plan) for name in names}
    unknown = 0
    parquet = pq.ParquetFile(copy, pre_buffer=False)
    first = 0  # the file's row number of the batch's first row
    with scan_memory_pool():
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            keep = _unseen(batch.column(plan.target), first, trained)
            first += batch.num_rows
            if keep.any():
                rows = batch.filter(pa.array(keep)).to_pandas().astype(types)
                actual, known = _encode_target(rows[plan.target], plan)
                unknown += int((~known).sum())
                if not known.all():
                    rows, actual = rows[known], actual[known]
                if len(rows):
                    for name, model in models.items():
                        totals[name].add(actual, *model.predict_encoded(rows))
            if progress is not None:
                progress(first)
    if not next(iter(totals.values())).rows:
        raise ProblemError(
            "The file has no labelled rows besides the ones the run trained on, "
            "so there is nothing more to score."
        )
    return {
        name: Confirmation(name, totals[name].metrics(), totals[name].rows, unknown)
        for name in names
    }


def training_rows(run_dir: Path) -> np.ndarray:
    """The sorted row numbers (places in the file) of the rows the run trained on."""
    path = run_dir / "train.parquet"
    if ROW_NUMBER not in pq.read_schema(path).names:
        raise ProblemError(
            "This run was sampled before PROMISE kept each row's place in the file, so "
            "its training rows cannot be told apart from the others; start a new run "
            "to confirm its models on the whole file."
        )
    column = pq.read_table(path, columns=[ROW_NUMBER]).column(ROW_NUMBER)
    return np.sort(column.to_numpy().astype("int64"))


def _unseen(target: pa.ChunkedArray | pa.Array, first: int, trained: np.ndarray) -> np.ndarray:
    """Which rows of a batch starting at row `first` to score: labelled and not trained on."""
    keep = ~pc.is_null(target, nan_is_null=True).to_numpy(zero_copy_only=False)
    # The training rows inside this batch form one slice of the sorted numbers.
    low, high = np.searchsorted(trained, [first, first + len(keep)])
    keep[trained[low:high] - first] = False
    return keep


def _encode_target(values: pd.Series, plan: RunPlan) -> tuple[np.ndarray, np.ndarray]:
    """Targets as the models see them (prepare.encode_target), and which are usable."""
    if plan.task == REGRESSION:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        return numbers, ~np.isnan(numbers)
    index = pd.Index(plan.classes).get_indexer(values)
    return index, index >= 0


def _totals(plan: RunPlan):
    if plan.task == REGRESSION:
        return RegressionTotals()
    return ClassificationTotals(len(plan.classes))


class ClassificationTotals:
    """Counts and sums that give the classification metrics exactly, batch by batch.

    The same sums as the exported evaluate.py: accuracy, balanced accuracy, macro F1 and
    log loss as scikit-learn computes them, and the expected calibration error over
    metrics.CALIBRATION_BINS equal-width bins. ROC AUC needs every score sorted at
    once, so it is not among them.
    """

    def __init__(self, classes: int) -> None:
        # confusion[i, j] counts the rows of class i predicted as class j.
        self.confusion = np.zeros((classes, classes), dtype="int64")
        self.log_loss_sum = 0.0
        self.bin_confidence = np.zeros(CALIBRATION_BINS)
        self.bin_correct = np.zeros(CALIBRATION_BINS)

    @property
    def rows(self) -> int:
        return int(self.confusion.sum())

    def add(self, actual: np.ndarray, predicted: np.ndarray, proba: np.ndarray) -> None:
        classes = len(self.confusion)
        pairs = np.bincount(actual * classes + predicted, minlength=classes * classes)
        self.confusion += pairs.reshape(classes, classes)
        # Clipped as scikit-learn's log_loss does: a probability of 0 costs a finite loss.
        eps = np.finfo(proba.dtype).eps
        chosen = np.clip(proba[np.arange(len(actual)), actual], eps, 1 - eps)
        self.log_loss_sum -= float(np.sum(np.log(chosen)))
        confidence = proba.max(axis=1)
        bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
        self.bin_confidence += np.bincount(bins, confidence, minlength=CALIBRATION_BINS)
        self.bin_correct += np.bincount(bins, predicted == actual, minlength=CALIBRATION_BINS)

    def metrics(self) -> dict[str, float]:
        correct = np.diag(self.confusion)
        actual = self.confusion.sum(axis=1)
        predicted = self.confusion.sum(axis=0)
        # Balanced accuracy averages the recall of the classes that occur; macro F1
        # the classes that occur or are predicted (scikit-learn's choices).
        occurring = actual > 0
        scored = (actual + predicted) > 0
        f1 = 2 * correct[scored] / (actual[scored] + predicted[scored])
        return {
            "accuracy": float(correct.sum() / self.rows),
            "balanced_accuracy": float(np.mean(correct[occurring] / actual[occurring])),
            "f1_macro": float(np.mean(f1)),
            "log_loss": self.log_loss_sum / self.rows,
            "ece": float(np.abs(self.bin_correct - self.bin_confidence).sum()) / self.rows,
        }


class RegressionTotals:
    """Running sums that give R², RMSE, MAE and MAPE exactly, batch by batch."""

    def __init__(self) -> None:
        self.rows = 0
        self.squared_error = 0.0
        self.absolute_error = 0.0
        self.percentage_error = 0.0
        self.smallest_actual = math.inf
        # The target's mean and sum of squared deviations, merged batch by batch (Chan
        # et al.), which stays accurate where sum(y²) - n·mean² would not.
        self.target_mean = 0.0
        self.target_spread = 0.0

    def add(self, actual: np.ndarray, predicted: np.ndarray, proba: None = None) -> None:
        errors = actual - predicted
        self.squared_error += float(np.sum(errors**2))
        self.absolute_error += float(np.sum(np.abs(errors)))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.percentage_error += float(np.sum(np.abs(errors) / np.abs(actual)))
        self.smallest_actual = min(self.smallest_actual, float(np.min(np.abs(actual))))
        rows = len(actual)
        mean = float(np.mean(actual))
        spread = float(np.sum((actual - mean) ** 2))
        total = self.rows + rows
        delta = mean - self.target_mean
        self.target_spread += spread + delta**2 * self.rows * rows / total
        self.target_mean += delta * rows / total
        self.rows = total

    def metrics(self) -> dict[str, float]:
        if self.target_spread > 0:
            r2 = 1 - self.squared_error / self.target_spread
        else:
            r2 = 1.0 if self.squared_error == 0 else 0.0  # scikit-learn's convention
        metrics = {
            "r2": r2,
            "rmse": math.sqrt(self.squared_error / self.rows),
            "mae": self.absolute_error / self.rows,
        }
        if self.smallest_actual > MAPE_MIN_ABS:
            metrics["mape"] = self.percentage_error / self.rows
        return metrics


@dataclass(frozen=True)
class MetricComparison:
    """One metric on the sample's holdout and on the whole file; `difference` is full − holdout."""

    metric: str
    holdout: float | None
    full: float | None
    difference: float | None


def compare_to_holdout(
    holdout: dict[str, float],
    full: dict[str, float],
    *,
    metric: str,
    interval: Sequence[float] | None,
) -> tuple[list[MetricComparison], bool | None]:
    """Each metric of either side, `metric` first, and whether the full-file `metric` is
    outside the holdout's `interval` ([low, high]); None when there is no interval or score.
    """
    known = list(METRIC_LABELS)  # every metric of either task, in their usual order
    names = sorted({*holdout, *full} & set(known), key=lambda k: (k != metric, known.index(k)))
    rows = []
    for name in names:
        a, b = _number(holdout.get(name)), _number(full.get(name))
        rows.append(MetricComparison(name, a, b, None if a is None or b is None else b - a))
    score = _number(full.get(metric))
    if not interval or score is None:
        return rows, None
    low, high = interval
    return rows, not low <= score <= high


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
