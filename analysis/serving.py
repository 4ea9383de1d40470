"""Predictions from trained candidates: the models kept in memory, answers kept in Redis.

- The model cache (per process) loads a model on its first request, each model once
  even when many threads ask for it together (a lock per model), and keeps the most
  recently used within SERVING_MODEL_CACHE_MB (estimated from the model's files: a
  fitted estimator in memory is about its pickle's size). A model is forgotten when its
  files change (retrained: the files' sizes and times are its fingerprint) or go away
  (deleted), and when staff clear the caches: a generation number in Redis, read with
  each request, tells every process.
- The prediction cache (Redis) keeps each answer for SERVING_PREDICTION_CACHE_SECONDS,
  keyed by the model, its files' checksum and the request's rows as canonical JSON. It is
  used only for models whose recent answers took SERVING_PREDICTION_CACHE_MIN_MS or more
  to compute: a compiled linear model or tree answers one row in a fraction of a
  millisecond, less than the cache's two round trips to Redis cost (measured with
  benchmarks/serving.py), so for those the cache would only add latency.
- All rows of a request go through the model as one batch (compiled.py's fast path).
- The API finds the candidate asked for through `owned_candidate`, which each process
  remembers for SERVING_CANDIDATE_SECONDS: a prediction then costs no database query. A
  candidate's owner never changes, so another user's candidate is always a 404; one that
  is deleted or retrained is noticed through its files (the model cache's fingerprint)
  at once, and through the database within SERVING_CANDIDATE_SECONDS.
- Every request is counted in serving_metrics.

Redis going away costs the prediction cache and the numbers, never a prediction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings

from . import serving_metrics
from .automl.compiled import CompiledModel, read_record
from .automl.fitted import ModelFormatError
from .models import CandidateResult
from .prediction_input import FeatureSchema, check_rows, schema_of
from .storage import model_folder

log = logging.getLogger(__name__)

MAX_ROWS_PER_REQUEST = 10_000
CACHED_ROWS = 100  # answers for more rows than this are not cached
GENERATION_KEY = "serving:generation"
PREDICTION_PREFIX = "serving:prediction:"
FINGERPRINT_FILES = ("model.json", "model.joblib", "compiled.json")
# The columns of a candidate that predicting reads (the API loads only these: the others
# hold charts and scores, big JSON that would be read and decoded on every prediction).
CANDIDATE_FIELDS = ("id", "name", "status", "model_dir")
REMEMBERED_CANDIDATES = 10_000
SWEEP_SECONDS = 5.0
GENERATION_SECONDS = 1.0  # how long a process trusts the generation it last read


class PredictionError(Exception):
    """The rows sent for prediction cannot be used, said in one sentence."""


@dataclass
class Entry:
    model: CompiledModel
    directory: Path
    fingerprint: tuple
    checksum: str  # of the model files, for the prediction cache's keys
    bytes: int
    loaded_at: float
    schema: FeatureSchema | None = None  # read from the model on first use
    compute_ms: float | None = None  # recent answers' CPU time (moving average)

    def worth_caching(self) -> bool:
        """Whether this model's answers cost more CPU to compute than to fetch from Redis."""
        least = settings.SERVING_PREDICTION_CACHE_MIN_MS
        return least <= 0 or (self.compute_ms is not None and self.compute_ms >= least)

    def computed(self, seconds: float) -> None:
        ms = seconds * 1000
        self.compute_ms = ms if self.compute_ms is None else 0.8 * self.compute_ms + 0.2 * ms


class ModelCache:
    """Loaded models by candidate id, most recently used last, within a memory budget."""

    def __init__(self):
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._lock = threading.Lock()  # guards the dicts; never held while loading
        self._loading: dict[int, threading.Lock] = {}
        self._generation: bytes | None = None
        self._swept = self._published = time.monotonic()
        self.loads = 0  # models loaded by this process, for the tests and the page
        self._load_counts: dict[int, int] = {}  # per model: 1 unless reloaded

    def get(self, candidate_id: int, model_dir: str, generation: bytes | None) -> Entry:
        self._follow(generation)
        self._sweep()
        directory = model_folder(model_dir)
        fingerprint = _fingerprint(directory)
        if fingerprint is None:
            self.forget(candidate_id)
            raise PredictionError("This model's files are gone; train it again.")
        entry = self._hit(candidate_id, fingerprint)
        if entry is not None:
            if time.monotonic() - self._published > serving_metrics.LOADED_TTL / 4:
                self._publish()  # before the list of this process's models expires
            return entry
        with self._lock:
            loading = self._loading.setdefault(candidate_id, threading.Lock())
        with loading:  # the first thread loads; the others wait, then find it loaded
            entry = self._hit(candidate_id, fingerprint)
            if entry is None:
                entry = self._load(candidate_id, directory, fingerprint)
        return entry

    def _hit(self, candidate_id: int, fingerprint: tuple) -> Entry | None:
        with self._lock:
            entry = self._entries.get(candidate_id)
            if entry is None:
                return None
            if entry.fingerprint != fingerprint:  # retrained, or compiled since
                del self._entries[candidate_id]
                return None
            self._entries.move_to_end(candidate_id)
            return entry

    def _load(self, candidate_id: int, directory: Path, fingerprint: tuple) -> Entry:
        try:
            model = CompiledModel.load(directory)
        except ModelFormatError as exc:  # an earlier format, or a damaged file
            raise PredictionError(str(exc)) from exc
        fingerprint = _fingerprint(directory) or fingerprint  # loading may have compiled it
        size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
        checksum = _checksum(directory, fingerprint)
        entry = Entry(model, directory, fingerprint, checksum, size, time.time())
        with self._lock:
            self._entries[candidate_id] = entry
            self.loads += 1
            self._load_counts[candidate_id] = self._load_counts.get(candidate_id, 0) + 1
            budget = settings.SERVING_MODEL_CACHE_MB * 1024 * 1024
            while len(self._entries) > 1 and self.total_bytes() > budget:
                self._entries.popitem(last=False)
        self._publish()
        return entry

    def _follow(self, generation: bytes | None) -> None:
        """Drop everything when staff cleared the caches since this process last looked."""
        if generation is not None and generation != self._generation:
            first = self._generation is None
            self._generation = generation
            if not first:
                self.clear()

    def _sweep(self) -> None:
        """Every SWEEP_SECONDS, drop the models whose files were deleted (their candidate,
        run or dataset was), which no request may ever ask for again."""
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS:
            return
        self._swept = now
        with self._lock:
            gone = [cid for cid, e in self._entries.items() if not e.directory.exists()]
        for candidate_id in gone:
            self.forget(candidate_id)

    def forget(self, candidate_id: int) -> None:
        with self._lock:
            dropped = self._entries.pop(candidate_id, None)
        if dropped is not None:
            self._publish()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        self._publish()

    def total_bytes(self) -> int:
        return sum(e.bytes for e in self._entries.values())

    def loaded(self) -> dict[int, dict]:
        with self._lock:
            return {
                cid: {
                    "path": e.model.path,
                    "bytes": e.bytes,
                    "loaded_at": round(e.loaded_at),
                    "loads": self._load_counts.get(cid, 0),
                }
                for cid, e in self._entries.items()
            }

    def _publish(self) -> None:
        self._published = time.monotonic()
        serving_metrics.publish_loaded(self.loaded())


MODELS = ModelCache()


_owned: dict[tuple[int, int], tuple[float, CandidateResult]] = {}  # → (until, candidate)


def owned_candidate(pk: int, owner) -> CandidateResult | None:
    """`owner`'s candidate `pk` with the columns predicting reads, or None; remembered by
    this process for SERVING_CANDIDATE_SECONDS (see the module's docstring)."""
    key, now, seconds = (pk, owner.pk), time.monotonic(), settings.SERVING_CANDIDATE_SECONDS
    remembered = _owned.get(key) if seconds > 0 else None
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    candidate = (
        CandidateResult.objects.only(*CANDIDATE_FIELDS).filter(pk=pk, run__owner=owner).first()
    )
    if candidate is not None and seconds > 0:
        if len(_owned) >= REMEMBERED_CANDIDATES:
            _owned.clear()
        _owned[key] = (now + seconds, candidate)
    return candidate


def predict_rows(candidate: CandidateResult, rows: list[dict], entry: Entry | None = None) -> dict:
    """Predict for `rows` (column → value); class probabilities come with classification.
    `entry`: the candidate's loaded model when the caller has it already."""
    started = time.perf_counter()
    cache_hit = False
    try:
        result, cache_hit = _predict(candidate, rows, entry)
    except Exception:
        serving_metrics.record(
            candidate.pk, time.perf_counter() - started, rows=0, error=True, cache_hit=False
        )
        raise
    serving_metrics.record(
        candidate.pk,
        time.perf_counter() - started,
        rows=len(rows),
        error=False,
        cache_hit=cache_hit,
    )
    return result


def _predict(candidate: CandidateResult, rows: list[dict], entry: Entry | None):
    entry, key = entry or _loaded(candidate), None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise PredictionError('Send "rows": a list of objects mapping column names to values.')
    if len(rows) > MAX_ROWS_PER_REQUEST:
        raise PredictionError(f"Send at most {MAX_ROWS_PER_REQUEST} rows per request.")
    small = len(rows) <= CACHED_ROWS
    if small and settings.SERVING_PREDICTION_CACHE_SECONDS > 0 and entry.worth_caching():
        key = prediction_key(candidate.pk, entry.checksum, rows)
        cached = _cache_get(key)
        if cached is not None:
            return cached, True
    # This thread's CPU time, not the clock's: under load the clock also counts the waits
    # for the process's other threads, which would make a cheap model look worth caching
    # and add two round trips to Redis to each of its answers.
    started = time.thread_time()
    result = _answer(candidate, entry.model, rows)
    if small:  # the cache's choice is for small requests: larger ones are never cached
        entry.computed(time.thread_time() - started)
    if key is not None:
        _cache_set(key, result)
    return result, False


def _answer(candidate: CandidateResult, compiled: CompiledModel, rows: list[dict]) -> dict:
    model = compiled.model
    known = set(model.features.columns)
    sent = set().union(*(row.keys() for row in rows))
    if not sent & known:
        raise PredictionError(
            "None of the model's columns were sent; it expects: "
            + ", ".join(model.features.columns)
            + "."
        )
    unknown = sorted(str(c) for c in sent - known - {model.target})
    try:
        encoded, proba = compiled.predict_rows(rows)
    except Exception:  # the fast path failed on these rows: the pipeline answers
        log.exception("fast path failed for candidate %s; using the pipeline", candidate.pk)
        import pandas as pd

        encoded, proba = model.predict_encoded(pd.DataFrame.from_records(rows))
    result = {"model": candidate.name, "predictions": model.decode(encoded)}
    if proba is not None:
        labels = [str(c) for c in model.classes]
        result["probabilities"] = [  # rounded at once: a numpy call per row costs more
            dict(zip(labels, p, strict=True)) for p in proba.round(6).tolist()
        ]
    if unknown:
        result["ignored_columns"] = unknown
    return result


def feature_columns(candidate: CandidateResult) -> list[str]:
    """The columns the candidate's model was trained on, in order (the prediction form's)."""
    return _loaded(candidate).model.model.features.columns


def _loaded(candidate: CandidateResult) -> Entry:
    """The candidate's model from the model cache, loaded on first use."""
    if candidate.status != CandidateResult.Status.SUCCEEDED:
        raise PredictionError("This candidate has no trained model.")
    return MODELS.get(candidate.pk, candidate.model_dir, _generation())


def _schema(entry: Entry) -> FeatureSchema:
    if entry.schema is None:
        entry.schema = schema_of(entry.model.model)
    return entry.schema


def feature_schema(candidate: CandidateResult) -> FeatureSchema:
    """The columns the candidate's model takes, by kind, with the categories it knows."""
    return _schema(_loaded(candidate))


def predict_checked(candidate: CandidateResult, rows: list) -> dict:
    """`predict_rows` for rows checked against the model's schema first (see
    prediction_input: InputRefused names every field); the answer also lists the columns
    ignored and the categories the model never saw."""
    if isinstance(rows, list) and len(rows) > MAX_ROWS_PER_REQUEST:
        raise PredictionError(f"Send at most {MAX_ROWS_PER_REQUEST} rows per request.")
    entry = _loaded(candidate)
    checked = check_rows(_schema(entry), rows)
    return {**predict_rows(candidate, checked.rows, entry), **checked.notes()}


def prediction_key(candidate_id: int, checksum: str, rows: list[dict]) -> str:
    """The cache key of an answer: the model, its files' checksum and the rows' canonical
    JSON (keys sorted, no spaces), so the same rows sent differently share one answer."""
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{PREDICTION_PREFIX}{candidate_id}:{checksum[:16]}:{digest}"


def clear_caches() -> int:
    """Clear the prediction cache, and the model caches of every process (each drops its
    models on its next request); returns how many cached answers were removed."""
    r = serving_metrics.client()
    removed = 0
    batch = []
    for key in r.scan_iter(match=f"{PREDICTION_PREFIX}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            removed += r.delete(*batch)
            batch = []
    if batch:
        removed += r.delete(*batch)
    r.incr(GENERATION_KEY)
    MODELS.clear()
    return removed


_generation_read = [0.0, None]  # when, what


def _generation() -> bytes | None:
    """The caches' generation in Redis, read at most once per GENERATION_SECONDS: staff
    clearing the caches reaches every process within that time."""
    now = time.monotonic()
    if now - _generation_read[0] < GENERATION_SECONDS:
        return _generation_read[1]
    try:
        value = serving_metrics.client().get(GENERATION_KEY) or b"0"
    except redis.RedisError:
        return None
    _generation_read[:] = [now, value]
    return value


def _cache_get(key: str) -> dict | None:
    try:
        value = serving_metrics.client().get(key)
    except redis.RedisError:
        return None
    return json.loads(value) if value else None


def _cache_set(key: str, result: dict) -> None:
    try:
        serving_metrics.client().set(
            key, json.dumps(result), ex=settings.SERVING_PREDICTION_CACHE_SECONDS
        )
    except redis.RedisError as exc:
        log.warning("prediction not cached: %s", exc)


def _fingerprint(directory: Path) -> tuple | None:
    """The model files' sizes and modification times; None when the model is gone."""
    found = []
    for name in FINGERPRINT_FILES:
        try:
            stat = (directory / name).stat()
        except FileNotFoundError:
            if name == "model.json":
                return None
            continue
        found.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def _checksum(directory: Path, fingerprint: tuple) -> str:
    """The model files' checksum compiling recorded; their fingerprint if never compiled."""
    sources = (read_record(directory) or {}).get("sources") or repr(fingerprint)
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()
