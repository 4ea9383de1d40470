"""The serving caches under a load of threads, through the checked path the API uses:
right answers, one load of the model, each question answered by the model once or a few
times and from the Redis cache after that."""

import random
import threading

import pytest
import redis
from django.conf import settings

from analysis import serving, serving_metrics
from tests.unit.test_serving import (  # noqa: F401 - fixtures
    fresh_serving,
    make_candidate,
    rows_of,
    run,
    save_model,
    tree,
)

pytestmark = pytest.mark.django_db

THREADS, REQUESTS, QUESTIONS = 8, 40, 10


def test_an_extra_column_asks_the_same_question_of_the_cache(tree):  # noqa: F811
    candidate, _, holdout = tree
    rows = rows_of(holdout, 2)
    first = serving.predict_checked(candidate, rows)
    again = serving.predict_checked(candidate, [{**row, "note": "x"} for row in rows])
    assert again["predictions"] == first["predictions"] and again["ignored_columns"] == ["note"]
    stats = serving_metrics.summary()["models"][0]
    assert (stats["requests"], stats["cache_hits"]) == (2, 1)


def test_a_load_of_threads_gets_right_answers_from_one_model_and_the_cache(tree):  # noqa: F811
    candidate, model, holdout = tree
    questions = [holdout.iloc[i : i + 3] for i in range(QUESTIONS)]
    expected = [model.predict(frame) for frame in questions]
    records = [frame.to_dict("records") for frame in questions]
    failures, barrier = [], threading.Barrier(THREADS)

    def client(seed: int):
        pick = random.Random(seed)
        barrier.wait()
        for _ in range(REQUESTS):
            number = pick.randrange(QUESTIONS)
            try:
                answer = serving.predict_checked(candidate, records[number])
            except Exception as exc:  # reported below
                failures.append(repr(exc))
                continue
            if answer["predictions"] != expected[number]:
                failures.append(f"question {number}: {answer['predictions']}")

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures[:5]
    assert serving.MODELS.loads == 1
    stats = serving_metrics.summary()["models"][0]
    total = THREADS * REQUESTS
    assert (stats["requests"], stats["errors"]) == (total, 0)
    # Each question misses at most once per thread (threads asking it at the same moment).
    assert total - QUESTIONS * THREADS <= stats["cache_hits"] < total
    r = redis.Redis.from_url(settings.REDIS_URL)
    assert len(list(r.scan_iter(match=f"{serving.PREDICTION_PREFIX}*"))) == QUESTIONS
