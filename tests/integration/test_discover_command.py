"""`manage.py discover` runs the whole pipeline in-process: no Redis, no worker."""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from analysis.automl.ranking import NEAR_TIE
from tests.conftest import churn_frame

ROOT = Path(__file__).resolve().parents[2]


def discover(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "discover", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        # An unreachable broker proves the command needs no Redis.
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:1/0",
             "PROMISE_VAR_DIR": str(ROOT / "var"), "HOME": "/tmp"},
    )  # fmt: skip


def test_it_ranks_five_models_and_writes_json_and_the_export(tmp_path):
    data = tmp_path / "churn.csv"
    churn_frame(rows=300).to_csv(data, index=False)
    out, bundle = tmp_path / "result.json", tmp_path / "best.zip"
    result = discover(
        str(data), "--target", "churned", "--budget", "30", "--sample-size", "200",
        "--strategy", "stratified", "--json", str(out), "--export", str(bundle),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert (report["task"], report["metric"]) == ("binary", "accuracy")
    assert (report["rows_total"], report["rows_used"]) == (300, 200)
    models = [row["model"] for row in report["leaderboard"]]
    assert sorted(models) == ["decision_tree", "linear", "lstm", "random_forest", "xgboost"]
    # Chosen by cross-validation: best CV mean first, a simpler model first on a near-tie
    # (a one-fold score must also show its lead is significant, ranking.py).
    board = report["leaderboard"]
    top = max((row for row in board if len(row["cv_scores"]) > 1), key=lambda r: r["cv_mean"])
    assert board[0]["cv_mean"] >= top["cv_mean"] - NEAR_TIE
    assert board[0]["tied_with_first"] is False
    for row in board:
        assert isinstance(row["tied_with_first"], bool)
        assert row["holdout_ci"][0] <= row["holdout_ci"][1]
        assert row["cv_std"] is not None
    assert "evaluate.py" in zipfile.ZipFile(bundle).namelist()
    # The second round was planned with what the first round left, as on the platform.
    second = report["second_round"]
    assert second["seconds_left"] >= 0
    planned = {
        *second["seconds"],
        *second["converged"],
        *second["out_of_reach"],
        *second["too_slow"],
    }
    assert planned <= set(models) and planned


def test_it_refuses_a_wrong_target_in_one_sentence(tmp_path):
    data = tmp_path / "churn.csv"
    churn_frame(rows=50).to_csv(data, index=False)
    result = discover(str(data), "--target", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == "The target column 'nope' is not in the table."


def test_it_refuses_a_file_that_is_not_a_table(tmp_path):
    data = tmp_path / "image.csv"
    data.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 100)
    result = discover(str(data), "--target", "y")
    assert result.returncode == 2
    assert re.search("not a (text )?table", result.stderr)
    assert "Traceback" not in result.stderr


def test_it_ranks_by_the_chosen_metric_and_exports_the_chosen_model(tmp_path):
    data = tmp_path / "churn.csv"
    churn_frame(rows=200).to_csv(data, index=False)
    out, bundle = tmp_path / "result.json", tmp_path / "tree.zip"
    result = discover(
        str(data), "--target", "churned", "--budget", "15", "--metric", "log_loss",
        "--json", str(out), "--export", str(bundle), "--candidate", "decision_tree",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["metric"] == "log_loss"
    assert report["leaderboard"][0]["score"] == report["leaderboard"][0]["metrics"]["log_loss"]
    config = json.loads(zipfile.ZipFile(bundle).read("config.json"))
    assert config["model"]["family"] == "decision_tree"


def test_it_refuses_a_metric_that_does_not_fit_the_task(tmp_path):
    data = tmp_path / "churn.csv"
    churn_frame(rows=60).to_csv(data, index=False)
    result = discover(str(data), "--target", "churned", "--metric", "rmse")
    assert result.returncode == 2
    assert "cannot be ranked by 'rmse'" in result.stderr
