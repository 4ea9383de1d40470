"""The serving benchmarks' server: PROMISE under gunicorn as `make run` starts it
(promise/gunicorn.py) on 127.0.0.1, with production settings, in a var folder of its own;
and the CPU time its processes spent, which a busy machine does not inflate the way it
inflates wall-clock latency."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def server_env(var: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.serving_site",
        "PROMISE_VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        "DEBUG": "false",
        "SECRET_KEY": "serving-benchmark-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PROMISE_MANIFEST_STATIC": "false",  # the API serves no static files
        "PROMISE_API_USER_RATE": "none",
        "PYTHONPATH": str(ROOT),
    }


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        """User and system CPU time of gunicorn's master and workers so far."""
        total = 0.0
        root = psutil.Process(self.process.pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total


@contextlib.contextmanager
def gunicorn(var: Path) -> Iterator[Server]:
    """gunicorn serving PROMISE from `var` until the block ends; its log is var/gunicorn.log."""
    port = _free_port()
    with (var / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "promise.wsgi:application",
                "-c", "python:promise.gunicorn", "--bind", f"127.0.0.1:{port}",
            ],
            cwd=ROOT, env=server_env(var), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_until_up(port, process, var)
            yield Server(port, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy machine: kept-alive threads linger
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(port: int, process: subprocess.Popen, var: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit(f"gunicorn did not start:\n{(var / 'gunicorn.log').read_text()[-3000:]}")
