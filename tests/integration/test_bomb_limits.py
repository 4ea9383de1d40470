"""Bombs and slow files on the real worker: refused within 30 s and 1 GB; one user's files
take one worker while another user's are read; a deleted dataset's read stops; a worker's
start clears the partial files crashed work left."""

import os
import threading
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis import services
from analysis.automl.ingest.scratch import PARTIAL_SUFFIX, host_name
from analysis.models import Dataset
from promise.celery import app
from tests.bombs import CORPUS, write_corpus
from tests.worker import wait_for
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = 30
PEAK_BYTES = 1 << 30


class _PeakMemory:
    """The largest resident memory of any process of the worker, sampled every 50 ms."""

    def __init__(self, worker: WorkerProcess):
        self.root = psutil.Process(worker.pid)
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _rss(self) -> int:
        largest = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                largest = max(largest, process.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        return largest

    def _watch(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.before = self._rss()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def _settled(dataset_id: int, timeout: float) -> Dataset:
    wait_for(
        lambda: Dataset.objects.get(pk=dataset_id).status in ("ready", "failed"),
        timeout=timeout,
        what="the profile to end",
        interval=0.1,
    )
    return Dataset.objects.get(pk=dataset_id)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("bombs"))


def test_each_bomb_is_refused_by_the_worker_within_30_s_and_1_gb(
    celery_worker, owner_client, corpus
):
    measured = {}
    for name, path in corpus.items():
        upload = SimpleUploadedFile(name, path.read_bytes())
        with _PeakMemory(celery_worker) as memory:
            started = time.monotonic()
            response = owner_client.post(reverse("dataset_upload"), {"file": upload})
            assert response.status_code == 302
            dataset = _settled(Dataset.objects.latest("pk").pk, timeout=SECONDS + 30)
            seconds = time.monotonic() - started
        measured[name] = (seconds, memory.peak, dataset.status, dataset.error)
        stored = Path(dataset.file.path)
        # Nothing written beside the refused file: no partial copy, no scratch text.
        assert not [p for p in stored.parent.iterdir() if p.name.startswith(f".{stored.name}.")]
        print(
            f"{name}: {path.stat().st_size / 1e6:.1f} MB, refused in {seconds:.1f} s, worker "
            f"peak {memory.peak / 2**20:.0f} MB (idle {memory.before / 2**20:.0f} MB): "
            f"{dataset.error}"
        )
    for name, (seconds, peak, status, error) in measured.items():
        assert status == "failed" and CORPUS[name][1] in error, (name, error)
        assert seconds < SECONDS and peak < PEAK_BYTES, (name, seconds, peak)


def _slow_csv(path: Path, megabytes: int) -> Path:
    """A plain CSV the worker profiles at about 40 MB a second: no limit applies to it."""
    block = "".join(
        f"{i},{(i * 7919) % 10007 / 13:.6f},{('red', 'green', 'blue')[i % 3]},{i * 104729},"
        f"2024-01-{1 + i % 28:02d}\n"
        for i in range(20_000)
    ).encode()
    with path.open("wb") as out:
        out.write(b"id,x,colour,n,day\n")
        for _ in range(megabytes * 10**6 // len(block)):
            out.write(block)
    return path


def test_one_users_files_take_one_worker_while_another_users_file_is_read(
    celery_worker, owner, outsider, tmp_path
):
    assert settings.PROMISE_PROFILES_PER_USER == 1
    slow = _slow_csv(tmp_path / "slow.csv", megabytes=150)
    mine = [
        services.dataset_create_from_path(owner=owner, path=slow, name=f"slow{i}.csv").pk
        for i in range(2)
    ]
    small = tmp_path / "small.csv"
    small.write_text("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    theirs = services.dataset_create_from_path(owner=outsider, path=small).pk

    most_at_once, finished = 0, {}
    deadline = time.monotonic() + 120
    while len(finished) < 3 and time.monotonic() < deadline:
        statuses = dict(Dataset.objects.filter(pk__in=[*mine, theirs]).values_list("pk", "status"))
        most_at_once = max(most_at_once, sum(statuses[pk] == "profiling" for pk in mine))
        for pk, status in statuses.items():
            if status in ("ready", "failed") and pk not in finished:
                finished[pk] = time.monotonic()
        time.sleep(0.05)

    assert [Dataset.objects.get(pk=pk).status for pk in [*mine, theirs]] == ["ready"] * 3
    assert most_at_once == 1
    # The other user's file was read beside the first, not after both.
    assert finished[theirs] < max(finished[pk] for pk in mine)


def _workers_idle() -> bool:
    active = app.control.inspect(timeout=1).active() or {}
    return not any(active.values())


def test_deleting_a_dataset_while_it_is_read_stops_the_read_and_leaves_nothing(
    celery_worker, owner, owner_client, tmp_path
):
    slow = _slow_csv(tmp_path / "slow.csv", megabytes=600)
    dataset = services.dataset_create_from_path(owner=owner, path=slow)
    folder = Path(dataset.file.path).parent
    wait_for(
        lambda: list(folder.glob(f".{Path(dataset.file.name).name}.*{PARTIAL_SUFFIX}")),
        timeout=30,
        what="the Parquet copy to be written",
        interval=0.1,
    )
    started = time.monotonic()

    response = owner_client.post(reverse("dataset_delete", args=[dataset.pk]))

    assert response.status_code == 302
    wait_for(_workers_idle, timeout=10, what="the worker to stop reading", interval=0.2)
    stopped = time.monotonic() - started
    print(f"the read stopped {stopped:.1f} s after the delete")
    assert stopped < 8
    assert not any(p.name.startswith(f".{Path(dataset.file.name).name}") for p in folder.iterdir())
    assert not Path(dataset.file.path).exists()


def test_a_starting_worker_removes_the_partial_files_of_crashed_work(celery_worker, tmp_path):
    folder = Path(settings.MEDIA_ROOT) / "datasets" / "crashed"
    folder.mkdir(parents=True, exist_ok=True)
    dead = 4_000_000
    while psutil.pid_exists(dead):
        dead += 1
    left = folder / f".t.csv.0123456789ab.parquet.{host_name()}-{dead}{PARTIAL_SUFFIX}"
    left.write_bytes(b"PAR1" + b"\0" * 1000)
    # A worker of its own, on a queue nobody sends to: only its start matters here.
    worker = WorkerProcess(
        f"cleanup-{os.getpid()}@%h",
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        log_path=tmp_path / "cleanup.log",
        queues=["cleanup-check"],
        concurrency=1,
    )
    try:
        wait_for(lambda: not left.exists(), timeout=60, what="the partial file to be removed")
    finally:
        worker.stop()


def _reading(worker: WorkerProcess, partial_prefix: str) -> psutil.Process | None:
    """The worker process that has a partial file starting with `partial_prefix` open."""
    for child in psutil.Process(worker.pid).children(recursive=True):
        try:
            if any(Path(f.path).name.startswith(partial_prefix) for f in child.open_files()):
                return child
        except psutil.NoSuchProcess:
            continue
    return None


def test_a_read_whose_worker_was_killed_is_read_again_and_its_partial_copy_removed(
    celery_worker, owner, tmp_path
):
    slow = _slow_csv(tmp_path / "slow.csv", megabytes=300)
    dataset = services.dataset_create_from_path(owner=owner, path=slow)
    stored = Path(dataset.file.path)
    prefix = f".{stored.name}."
    process = wait_for(
        lambda: _reading(celery_worker, prefix), timeout=60, what="a worker to write the copy"
    )
    left = [p for p in stored.parent.iterdir() if p.name.startswith(prefix)]
    process.kill()  # as the kernel's OOM killer would

    # The message comes back (acks_late); the killed process's profiling slot lapses.
    dataset = _settled(dataset.pk, timeout=120)

    assert dataset.status == "ready", dataset.error
    assert left and not any(p.exists() for p in left if p.name.endswith(PARTIAL_SUFFIX))
    beside = sorted(p.name for p in stored.parent.iterdir() if p.name.startswith(prefix))
    assert len(beside) == 1 and beside[0].endswith(".parquet"), beside
