"""The memory limit around a candidate's training, in a process of its own."""

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from analysis.memory_guard import memory_limit

    report, megabytes = sys.argv[1], int(sys.argv[2])
    def record(rss):
        with open(report, "w") as out:
            json.dump({"rss": rss}, out)
    with memory_limit(300 * 1024**2, record):
        block = np.ones(megabytes * 1024**2 // 8)
        time.sleep(1)  # the watching thread looks four times a second
    print("finished")
    """
)


def run_child(tmp_path, megabytes: int) -> tuple[subprocess.CompletedProcess, dict | None]:
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(report), str(megabytes)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, json.loads(report.read_text()) if report.exists() else None


def test_work_under_the_limit_finishes(tmp_path):
    result, report = run_child(tmp_path, megabytes=10)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "finished" and report is None


def test_work_over_the_limit_is_recorded_then_its_process_killed(tmp_path):
    result, report = run_child(tmp_path, megabytes=600)

    assert result.returncode == -9  # SIGKILL: nothing after the limit ran
    assert "finished" not in result.stdout
    assert report["rss"] > 300 * 1024**2
