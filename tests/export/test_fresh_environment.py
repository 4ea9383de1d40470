"""The export runs with nothing but its own requirements.txt installed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_pinned_requirements_alone_run_evaluate(exports, tmp_path):
    export = exports.get("linear", "classification")
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", environment], check=True)
    python = environment / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=export.folder,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr

    result = subprocess.run(
        [python, "-I", "evaluate.py", "--data", "holdout.csv", "--chunksize", "10"],
        cwd=export.folder,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout.strip().splitlines()[-1])
    assert reported["score"] == pytest.approx(export.outcome.metrics["accuracy"], abs=1e-9)
