"""`make run` for real: it comes up (web, worker, Redis) and Ctrl-C stops all of it.

Each test starts `make -s run` in its own process group with a free PORT and a temporary
PROMISE_VAR_DIR, waits until the login page answers and the Celery worker answers a
ping over REDIS_URL, then sends SIGINT to the group, as Ctrl-C in a terminal does, and
checks that every process it started is gone and its ports are free again. No database
of pytest-django is used: the app under test migrates its own.
"""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import redis
from celery import Celery

from tests.broker import PrivateRedis

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90
STOP_TIMEOUT = 20

# Settings the test run of pytest puts into the environment (tests/settings.py) that must
# not leak into the app under test: it is configured only by what each test sets.
LEAKY = ("DJANGO_", "PROMISE_", "CELERY_", "GUNICORN_")
LEAKY_NAMES = {"REDIS_URL", "DATABASE_URL", "MEDIA_ROOT", "SECRET_KEY", "DEBUG",
               "ALLOWED_HOSTS", "PORT", "HOST", "WEB_CONCURRENCY"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def redis_pings(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


class MakeRun:
    """`make -s run` in its own process group, its output collected as it comes."""

    def __init__(
        self, var_dir: Path, port: int, redis_url: str, database_url: str | None, **settings
    ):
        """`settings`: more of the app's environment variables (PROMISE_RECONCILE_SECONDS)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(LEAKY) and k not in LEAKY_NAMES}  # fmt: skip
        env.update(PORT=str(port), REDIS_URL=redis_url, PROMISE_VAR_DIR=str(var_dir), **settings)
        if database_url:
            env["DATABASE_URL"] = database_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def fail(self, what: str) -> None:
        pytest.fail(f"{what}\n--- output of make run (last 6000 chars) ---\n{self.output[-6000:]}")

    def wait_for(self, check, what: str, deadline: float):
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"make run exited ({self.process.returncode}) before {what}")
            if result := check():
                return result
            time.sleep(0.5)
        self.fail(f"Timed out waiting for {what}")

    def login_page_status(self) -> int | None:
        # /accounts/login/ is the login page; /admin/login/ answers while it does not exist.
        for path in ("accounts/login/", "admin/login/"):
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    return error.code
            except (urllib.error.URLError, OSError):
                return None
        return None

    def processes(self) -> dict[psutil.Process, str]:
        """make and everything under it (web, worker and its pool, an embedded Redis)."""
        root = psutil.Process(self.process.pid)
        found = {}
        for process in [root, *root.children(recursive=True)]:
            try:
                found[process] = " ".join(process.cmdline())
            except psutil.NoSuchProcess:
                pass  # a short-lived helper
        return found

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def kill_leftovers(self, processes) -> None:
        for process in processes:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


def check_make_run(tmp_path: Path, redis_url: str, *, database_url: str | None = None):
    """Start make run, check it came up, Ctrl-C it, check all of it stopped.

    Returns the MakeRun (for its output) and the processes it had started.
    """
    port = free_port()
    run = MakeRun(tmp_path / "var", port, redis_url, database_url)
    processes: dict[psutil.Process, str] = {}
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = run.wait_for(run.login_page_status, "the login page to answer", deadline)
        if status != 200:
            run.fail(f"the login page answered HTTP {status}")
        if not redis_pings(redis_url):
            run.fail(f"no Redis answers PING at {redis_url}")

        broker = Celery(broker=redis_url, set_as_current=False)
        try:
            replies = run.wait_for(
                lambda: broker.control.ping(timeout=1),
                "the Celery worker to answer a ping",
                deadline,
            )
        finally:
            broker.close()
        assert any(reply.get("ok") == "pong" for answer in replies for reply in answer.values())
        run.wait_for(
            lambda: " ready." in run.output, "the worker to log that it is ready", deadline
        )
        run.wait_for(
            lambda: f"PROMISE is up: open {run.url}" in run.output, "the printed URL", deadline
        )
        assert "accounts/signup/" in run.output and "make admin" in run.output

        processes = run.processes()
        commands = " ".join(processes.values())
        assert "gunicorn" in commands and "celery" in commands, commands

        run.interrupt()
        started = time.monotonic()
        try:
            run.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            run.fail(f"make run did not exit within {STOP_TIMEOUT} s of SIGINT")
        _, alive = psutil.wait_procs(
            list(processes), timeout=max(0.1, STOP_TIMEOUT - (time.monotonic() - started))
        )
        if alive:
            run.fail(f"still running after SIGINT: {[processes[p] for p in alive]}")
        if not port_is_free(port):
            run.fail(f"port {port} is still taken after SIGINT")
        return run, processes
    finally:
        if run.process.poll() is None:
            # honcho gives web and worker process groups of their own: find them before
            # make goes, or a failed check would leave them running.
            processes = {**run.processes(), **processes}
            os.killpg(run.process.pid, signal.SIGKILL)
        run.kill_leftovers(processes)


def test_make_run_starts_an_embedded_redis_when_none_answers(tmp_path):
    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    assert not redis_pings(redis_url)

    run, processes = check_make_run(tmp_path, redis_url)

    assert any("redis-server" in command for command in processes.values()), processes
    assert "started the embedded redis-server" in run.output
    assert (tmp_path / "var" / "redis" / "dump.rdb").exists()  # saved on the way down
    assert (tmp_path / "var" / "promise.sqlite3").exists()  # DATABASE_URL unset: SQLite in var/
    assert port_is_free(redis_port) and not redis_pings(redis_url)


def test_make_run_uses_the_redis_that_already_answers(tmp_path):
    # A Redis already running, as on a machine that has one: started here, on a free port,
    # so that no other test (or parallel test process) shares its queues.
    existing = PrivateRedis(tmp_path / "existing-redis")
    existing.folder.mkdir()
    existing.start()
    # Under `make test`, DATABASE_URL names PostgreSQL: make run then uses it.
    database_url = os.environ.get("DATABASE_URL")
    try:
        run, processes = check_make_run(tmp_path, existing.url, database_url=database_url)

        assert not any("redis-server" in command for command in processes.values()), processes
        assert f"using the one that answers at {existing.url}" in run.output
        assert not (tmp_path / "var" / "redis").exists()
        assert (tmp_path / "var" / "promise.sqlite3").exists() == (database_url is None)
        assert redis_pings(existing.url)  # not stopped by Ctrl-C: it was not ours
    finally:
        existing.stop()
