"""Serving: the per-process model cache, the Redis prediction cache and the metrics, on the
real Redis of the test settings."""

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis
from django.conf import settings

from analysis import serving, serving_metrics
from analysis.automl.compiled import CompiledModel, compile_model
from analysis.models import CandidateResult, Run
from tests.unit.test_compiled import fitted

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_serving(monkeypatch):
    """A model cache of its own, the generation read on every request, no serving keys."""
    monkeypatch.setattr(serving, "MODELS", serving.ModelCache())
    monkeypatch.setattr(serving, "GENERATION_SECONDS", 0.0)
    monkeypatch.setattr(serving, "_generation_read", [0.0, None])
    _forget_serving_keys()
    yield
    _forget_serving_keys()


def _forget_serving_keys():
    serving_metrics.reset()  # this process's numbers not yet sent too
    r = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(r.scan_iter(match="serving:*", count=1000))
    if keys:
        r.delete(*keys)


def save_model(directory, family="decision_tree", task="binary"):
    model, holdout = fitted(family, task)
    model.save(directory)
    compile_model(model, directory)
    return model, holdout


@pytest.fixture
def run(owner, profiled_dataset):
    return Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")


def make_candidate(run, model_dir, name="decision_tree"):
    return CandidateResult.objects.create(
        run=run,
        name=name,
        label=name,
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=str(model_dir),
    )


@pytest.fixture
def tree(run, tmp_path):
    model, holdout = save_model(tmp_path / "tree")
    return make_candidate(run, tmp_path / "tree"), model, holdout


def rows_of(holdout, n=3):
    return holdout.head(n).to_dict("records")


def test_answers_are_the_pipelines_whole_batches_through_the_fast_path(tree):
    candidate, model, holdout = tree
    rows = holdout.to_dict("records")  # 100 rows: one batch, more than are cached
    answer = serving.predict_rows(candidate, rows)
    assert answer["predictions"] == model.predict(holdout)
    expected = model.predict_encoded(holdout)[1]
    got = np.array([[p[str(c)] for c in model.classes] for p in answer["probabilities"]])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert serving.MODELS.get(candidate.pk, candidate.model_dir, None).model.path == "onnx"


def test_a_model_is_loaded_once_and_an_answer_is_cached(tree):
    candidate, _, holdout = tree
    first = serving.predict_rows(candidate, rows_of(holdout))
    # The same rows with their keys in another order are the same question.
    reordered = [dict(reversed(list(row.items()))) for row in rows_of(holdout)]
    second = serving.predict_rows(candidate, reordered)
    assert first == second
    assert serving.MODELS.loads == 1
    stats = serving_metrics.summary()["models"][0]
    assert (stats["requests"], stats["cache_hits"], stats["errors"]) == (2, 1, 0)
    assert stats["cache_hit_rate"] == 0.5


def test_a_cached_answer_lives_for_the_ttl(tree, settings):
    candidate, _, holdout = tree
    settings.SERVING_PREDICTION_CACHE_SECONDS = 1
    serving.predict_rows(candidate, rows_of(holdout))
    entry = serving.MODELS.get(candidate.pk, candidate.model_dir, None)
    key = serving.prediction_key(candidate.pk, entry.checksum, rows_of(holdout))
    r = redis.Redis.from_url(settings.REDIS_URL)
    assert 0 < r.pttl(key) <= 1000
    serving.predict_rows(candidate, rows_of(holdout))
    time.sleep(1.2)
    serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 1


def test_no_ttl_caches_nothing(tree, settings):
    candidate, _, holdout = tree
    settings.SERVING_PREDICTION_CACHE_SECONDS = 0
    for _ in range(3):
        serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 0
    assert not list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="serving:pred*"))


def test_a_fast_models_answers_do_not_go_through_redis(tree, settings):
    candidate, _, holdout = tree
    settings.SERVING_PREDICTION_CACHE_MIN_MS = 60_000  # no model here takes a minute
    for _ in range(3):
        serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 0
    assert not list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="serving:pred*"))


def test_a_slow_models_answers_are_cached_once_its_compute_time_is_known(tree, settings):
    candidate, _, holdout = tree
    settings.SERVING_PREDICTION_CACHE_MIN_MS = 1e-6  # every model is slower than this
    for _ in range(3):  # computed (time unknown); computed and cached; from the cache
        serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 1


def test_waiting_while_answering_does_not_make_a_model_worth_caching(tree, settings, monkeypatch):
    # What other threads of a loaded server do to a cheap model's clock time: they hold
    # the interpreter while its answer waits. Its CPU time is what the cache weighs.
    candidate, _, holdout = tree
    settings.SERVING_PREDICTION_CACHE_MIN_MS = 5
    answer = serving._answer

    def waiting_answer(*args):
        time.sleep(0.02)
        return answer(*args)

    monkeypatch.setattr(serving, "_answer", waiting_answer)
    for _ in range(3):
        serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 0
    assert not list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="serving:pred*"))


def test_a_candidate_is_remembered_for_its_owner_only(tree, settings, outsider, monkeypatch):
    candidate = tree[0]
    monkeypatch.setattr(serving, "_owned", {})
    settings.SERVING_CANDIDATE_SECONDS = 60
    assert serving.owned_candidate(candidate.pk, candidate.run.owner) == candidate
    CandidateResult.objects.filter(pk=candidate.pk).delete()  # elsewhere: not told
    assert serving.owned_candidate(candidate.pk, candidate.run.owner) == candidate
    assert serving.owned_candidate(candidate.pk, outsider) is None


def test_a_retrained_model_is_loaded_again_and_its_old_answers_are_not_used(tree):
    candidate, _, holdout = tree
    before = serving.predict_rows(candidate, rows_of(holdout, 20))
    time.sleep(0.01)  # a new modification time even on coarse clocks
    retrained, _ = save_model(Path(candidate.model_dir), family="linear")
    after = serving.predict_rows(candidate, rows_of(holdout, 20))
    assert serving.MODELS.loads == 2
    assert after["predictions"] == retrained.predict(holdout.head(20))
    assert after["probabilities"] != before["probabilities"]
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 0


def test_a_deleted_model_is_forgotten(tree, monkeypatch):
    candidate, _, holdout = tree
    serving.predict_rows(candidate, rows_of(holdout))
    shutil.rmtree(candidate.model_dir)
    with pytest.raises(serving.PredictionError, match="files are gone"):
        serving.predict_rows(candidate, rows_of(holdout, 1))
    assert serving.MODELS.loaded() == {}
    assert serving_metrics.summary()["models"][0]["errors"] == 1


def test_a_model_saved_in_the_earlier_format_is_answered_with_a_sentence(run, tmp_path):
    # Before the Pipeline was one artifact, model.json had no checksum of it.
    directory = tmp_path / "old"
    directory.mkdir()
    (directory / "model.json").write_text('{"family": "decision_tree", "task": "binary"}')
    candidate = make_candidate(run, directory)

    with pytest.raises(serving.PredictionError, match="earlier version.*train it again"):
        serving.predict_rows(candidate, [{"x": 1.0}])


def test_models_whose_files_went_away_are_swept_out(run, tmp_path, monkeypatch):
    first = make_candidate(run, tmp_path / "a")
    second = make_candidate(run, tmp_path / "b", name="linear")
    _, holdout = save_model(tmp_path / "a")
    save_model(tmp_path / "b", family="linear")
    serving.predict_rows(first, rows_of(holdout))
    shutil.rmtree(tmp_path / "a")  # its run was deleted: nobody asks for it again
    monkeypatch.setattr(serving, "SWEEP_SECONDS", 0.0)
    serving.predict_rows(second, rows_of(holdout))
    assert list(serving.MODELS.loaded()) == [second.pk]


def test_the_cache_keeps_the_recently_used_within_its_memory_budget(run, tmp_path, settings):
    candidates = []
    for n, family in enumerate(("decision_tree", "linear", "random_forest")):
        _, holdout = save_model(tmp_path / str(n), family=family)
        candidates.append(make_candidate(run, tmp_path / str(n), family))
    sizes = [sum(f.stat().st_size for f in (tmp_path / str(n)).iterdir()) for n in range(3)]
    settings.SERVING_MODEL_CACHE_MB = (sizes[0] + sizes[1] + 1) / 1024 / 1024
    for candidate in candidates[:2]:
        serving.predict_rows(candidate, rows_of(holdout))
    assert set(serving.MODELS.loaded()) == {candidates[0].pk, candidates[1].pk}
    serving.predict_rows(candidates[0], rows_of(holdout, 2))  # now the most recent
    serving.predict_rows(candidates[2], rows_of(holdout))
    held = serving.MODELS.loaded()
    assert candidates[1].pk not in held and candidates[2].pk in held
    assert serving.MODELS.total_bytes() <= settings.SERVING_MODEL_CACHE_MB * 1024 * 1024 or (
        len(held) == 1
    )


def test_threads_asking_for_a_model_together_load_it_once(tree, monkeypatch):
    candidate, _, holdout = tree
    loads = []
    real_load = CompiledModel.load

    def slow_load(directory, model=None):
        loads.append(directory)
        time.sleep(0.3)  # every thread arrives while the first is still loading
        return real_load(directory, model)

    monkeypatch.setattr(CompiledModel, "load", staticmethod(slow_load))
    barrier = threading.Barrier(8)
    answers, failures = [], []

    def ask():
        try:
            barrier.wait()
            answers.append(serving.predict_rows(candidate, rows_of(holdout, 5)))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(loads) == 1 and serving.MODELS.loads == 1
    assert all(answer == answers[0] for answer in answers)


def test_clearing_the_caches_reaches_every_process(tree):
    candidate, _, holdout = tree
    other_process = serving.ModelCache()
    serving.predict_rows(candidate, rows_of(holdout))
    other_process.get(candidate.pk, candidate.model_dir, serving._generation())
    assert serving.clear_caches() == 1
    assert serving.MODELS.loaded() == {}
    # The other process drops its copy when it next reads the generation, and loads anew.
    other_process.get(candidate.pk, candidate.model_dir, serving._generation())
    assert other_process.loads == 2
    serving.predict_rows(candidate, rows_of(holdout))
    assert serving_metrics.summary()["models"][0]["cache_hits"] == 0


def test_latency_percentiles_and_rate_come_from_redis(tree, monkeypatch):
    candidate, _, holdout = tree
    for ms in range(1, 101):
        serving_metrics.record(candidate.pk, ms / 1000, rows=1, error=ms > 98, cache_hit=False)
    monkeypatch.setattr(serving_metrics.time, "time", lambda: time.time_ns() / 1e9 + 10)
    stats = serving_metrics.summary()["models"][0]
    assert stats["latency_ms"] == {"p50": 50.5, "p95": 95.05, "p99": 99.01}
    assert (stats["requests"], stats["errors"]) == (100, 2)
    assert stats["requests_per_second"] == round(100 / serving_metrics.RATE_WINDOW, 3)


def test_latency_samples_are_capped(tree, settings):
    candidate, _, _ = tree
    settings.SERVING_LATENCY_SAMPLES = 10
    for ms in range(50):
        serving_metrics.record(candidate.pk, ms / 1000, rows=1, error=False, cache_hit=False)
    stats = serving_metrics.summary()["models"][0]
    assert stats["latency_samples"] == 10 and stats["latency_ms"]["p50"] == 44.5


def test_a_redis_that_does_not_answer_costs_the_cache_not_the_prediction(tree, settings):
    candidate, model, holdout = tree
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    answer = serving.predict_rows(candidate, rows_of(holdout))
    assert answer["predictions"] == model.predict(holdout.head(3))


def test_unknown_columns_are_named_and_no_known_column_is_refused(tree):
    candidate, _, holdout = tree
    row = {**rows_of(holdout, 1)[0], "surprise": 1}
    assert serving.predict_rows(candidate, [row])["ignored_columns"] == ["surprise"]
    with pytest.raises(serving.PredictionError, match="None of the model's columns"):
        serving.predict_rows(candidate, [{"surprise": 1}])


def test_text_numbers_from_the_page_give_the_pipelines_answer(tree):
    candidate, model, holdout = tree
    row = {k: (None if pd.isna(v) else str(v)) for k, v in holdout.iloc[0].items()}
    answer = serving.predict_rows(candidate, [row])
    assert answer["predictions"] == model.predict(pd.DataFrame.from_records([row]))
