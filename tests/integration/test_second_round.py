"""The second round on a real worker: a search that can still improve gets the time the
first round left, the run is ranked after it, and a cancel or a lost worker still ends
it cleanly with the first round's model kept."""

import json
import os
import signal
import time

import pytest
from django.urls import reverse

from analysis import services
from analysis.automl.candidates import CANDIDATES
from analysis.automl.discovery import SEARCH_FILE, load_search
from analysis.models import CandidateResult, Dataset, Run
from analysis.services import dataset_create_from_path
from analysis.storage import run_dir
from tests.conftest import churn_frame
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FOREST = "random_forest"


@pytest.fixture
def first_round_done(celery_worker, owner, tmp_path) -> Run:
    """A run whose random forest finished a short first round (the other candidates
    failed), with plenty of its budget left: the moment the second round is planned."""
    path = tmp_path / "churn.csv"
    churn_frame(rows=2500).to_csv(path, index=False)
    dataset = dataset_create_from_path(owner=owner, path=path)
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=60, what="profile"
    )
    # Made by hand rather than run_start, so only the forest trains, here and quickly.
    run = Run.objects.create(
        owner=owner, dataset_id=dataset.pk, target="churned", time_budget=12, seed=0
    )
    CandidateResult.objects.bulk_create(
        CandidateResult(run=run, name=c.name, label=c.label, position=i)
        for i, c in enumerate(CANDIDATES)
    )
    services.run_prepare(run_id=run.pk)
    services.candidate_train(run_id=run.pk, name=FOREST)
    CandidateResult.objects.filter(run=run).exclude(name=FOREST).update(
        status="failed", error="Not trained in this test."
    )
    forest = CandidateResult.objects.get(run=run, name=FOREST)
    assert forest.status == "succeeded", forest.error
    assert load_search(run_dir(run) / "candidates" / FOREST).converged == ""
    Run.objects.filter(pk=run.pk).update(time_budget=60)
    return Run.objects.get(pk=run.pk)


def _finished(run: Run, timeout: float = 300) -> Run:
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=timeout, what="run"
    )
    return Run.objects.get(pk=run.pk)


def _second_round_running(run: Run) -> CandidateResult | None:
    return CandidateResult.objects.filter(run=run, second_round="running").first()


def test_it_continues_a_search_that_can_improve_and_ranks_after_it(first_round_done, owner_client):
    run = first_round_done
    first = CandidateResult.objects.get(run=run, name=FOREST)

    services.run_second_round(run_id=run.pk)

    run = _finished(run)
    assert run.status == "succeeded", run.error
    assert list(run.second_round["seconds"]) == [FOREST]
    forest = CandidateResult.objects.get(run=run, name=FOREST)
    assert forest.second_round in ("improved", "kept")
    assert forest.trials_done > first.trials_done
    assert forest.rank == 1
    # The stored search, the model's folder and the leaderboard row tell the same story.
    search = load_search(run_dir(run) / "candidates" / FOREST)
    assert search.trials == forest.trials_done
    assert search.cv_mean == pytest.approx(forest.cv_mean)
    assert sorted(p.name for p in (run_dir(run) / "candidates").iterdir()) == [FOREST]
    # The API tells the same: the plan on the run, the outcome on the candidate.
    answer = owner_client.get(reverse("api_run_detail", args=[run.pk])).json()
    assert list(answer["second_round"]["seconds"]) == [FOREST]
    by_name = {c["name"]: c for c in answer["candidates"]}
    assert by_name[FOREST]["second_round"] == forest.second_round


def test_it_says_on_the_live_page_that_a_second_round_is_on(first_round_done, owner_client):
    run = first_round_done

    services.run_second_round(run_id=run.pk)
    wait_for(lambda: _second_round_running(run), timeout=60, what="the second round")

    page = owner_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    owner_client.post(reverse("run_cancel", args=[run.pk]))
    assert "1 model searching on in the time the first round left" in page


def test_it_stops_the_second_round_at_once_when_the_run_is_cancelled(
    first_round_done, owner_client
):
    from promise.celery import app

    run = first_round_done
    services.run_second_round(run_id=run.pk)
    wait_for(lambda: _second_round_running(run), timeout=60, what="the second round")

    cancelled_at = time.monotonic()
    owner_client.post(reverse("run_cancel", args=[run.pk]))

    def workers_idle():
        active = app.control.inspect(timeout=1).active() or {}
        return not any(active.values())

    wait_for(workers_idle, timeout=10, what="the worker to drop the second round")
    assert time.monotonic() - cancelled_at < 5 + 2  # 2 s: the inspect round trip itself
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    # The first round's model is still there, whole.
    assert CandidateResult.objects.get(run=run, name=FOREST).status == "succeeded"
    assert (run_dir(run) / "candidates" / FOREST / "model.joblib").exists()


def _worker_pid(task_id: str) -> int | None:
    from promise.celery import app

    for tasks in (app.control.inspect(timeout=1).active() or {}).values():
        for task in tasks:
            if task["id"] == task_id:
                return task["worker_pid"]
    return None


def test_it_keeps_the_first_model_and_ranks_when_the_second_rounds_worker_dies(
    first_round_done,
):
    run = first_round_done
    model_file = run_dir(run) / "candidates" / FOREST / "model.joblib"
    first_model = model_file.read_bytes()
    search_file = run_dir(run) / "candidates" / FOREST / SEARCH_FILE
    first_search = json.loads(search_file.read_text())
    services.run_second_round(run_id=run.pk)

    pid = wait_for(
        lambda: (c := _second_round_running(run)) and _worker_pid(c.worker_task_id),
        timeout=60,
        what="the second round's worker",
    )
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would end it

    run = _finished(run, timeout=120)
    assert run.status == "succeeded", run.error
    forest = CandidateResult.objects.get(run=run, name=FOREST)
    assert (forest.status, forest.second_round, forest.rank) == ("succeeded", "stopped", 1)
    assert model_file.read_bytes() == first_model
    assert json.loads(search_file.read_text()) == first_search


def test_it_ranks_at_once_and_says_why_when_every_search_converged(first_round_done, owner_client):
    run = first_round_done
    search_file = run_dir(run) / "candidates" / FOREST / SEARCH_FILE
    search = json.loads(search_file.read_text())
    search_file.write_text(json.dumps({**search, "converged": "all 25 trials ran"}))

    services.run_second_round(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.second_round["converged"] == {FOREST: "all 25 trials ran"}
    page = owner_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    assert "because every model&#x27;s search had converged" in page
    assert "its last 5 trials raised its best cross-validated score" in page
