"""Single-row prediction latency per family: the scikit-learn pipeline against the compiled
fast path (numpy preprocessing and ONNX Runtime, or the LSTM's traced Keras function).

    .venv/bin/python benchmarks/serving_latency.py [--calls 200] [--dates]

Each family is fitted on a generated 2,000-row table (two numbers with gaps, a 4-value and
a 40-value category; `--dates` adds a date column, whose parsing stays with pandas), saved
and compiled as training does, then asked for one row `--calls` times each way, and for
1,000 rows in one batch. Medians in milliseconds; one JSON object goes to stdout.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.automl.candidates import get_candidate  # noqa: E402
from analysis.automl.candidates.base import assemble  # noqa: E402
from analysis.automl.compiled import CompiledModel, compile_model  # noqa: E402
from analysis.automl.fitted import FittedModel  # noqa: E402
from analysis.automl.preprocess import FeatureSpec, build_preprocessor, prepare_frame  # noqa: E402

FAMILIES = ("linear", "decision_tree", "random_forest", "xgboost", "lstm")


def table(rows: int, dates: bool) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "amount": rng.normal(1000, 300, size=rows),
            "plan": rng.choice(["basic", "plus", "pro", None], rows),
            "city": [f"city-{c}" for c in rng.integers(0, 40, rows)],
        }
    )
    if dates:
        frame["since"] = pd.date_range("2024-01-01", periods=rows, freq="13h").astype(str)
    frame.loc[::11, "x"] = np.nan
    y = (frame["x"].fillna(0) * 3 + frame["amount"] / 100 + rng.normal(size=rows)) > 10
    return frame, y.astype(int)


def median_ms(call, calls: int) -> float:
    call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--dates", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    frame, y = table(2000, args.dates)
    spec = FeatureSpec(
        numeric=["x", "amount"],
        categorical=["plan", "city"],
        datetime=["since"] if args.dates else [],
        high_cardinality=["city"],
    )
    prepared = prepare_frame(frame, spec)
    preprocessor = build_preprocessor(spec, "binary").fit(prepared, y)
    inputs = preprocessor.transform(prepared)
    row = frame.iloc[[5]].to_dict("records")
    batch = frame.head(1000).to_dict("records")
    results = {}
    for family in FAMILIES:
        candidate = get_candidate(family)
        estimator = candidate.build_estimator(
            candidate.default_params("binary"), task="binary", seed=0
        )
        estimator.fit(inputs, y)
        pipeline = assemble(spec, preprocessor, estimator)
        model = FittedModel(family, "binary", "y", [0, 1], spec, pipeline)
        directory = Path(tempfile.mkdtemp())
        model.save(directory)
        compile_model(model, directory)
        compiled = CompiledModel.load(directory)
        results[family] = {
            "fast_path": compiled.path,
            "pipeline_row_ms": median_ms(
                lambda m=model: m.predict_encoded(pd.DataFrame.from_records(row)), args.calls
            ),
            "compiled_row_ms": median_ms(lambda c=compiled: c.predict_rows(row), args.calls),
            "pipeline_1000_rows_ms": median_ms(
                lambda m=model: m.predict_encoded(pd.DataFrame.from_records(batch)), 5
            ),
            "compiled_1000_rows_ms": median_ms(lambda c=compiled: c.predict_rows(batch), 5),
        }
    print(json.dumps({"dates": args.dates, "calls": args.calls, "families": results}, indent=2))


if __name__ == "__main__":
    main()
