"""Every task goes to one of the three queues, and a `-Q train` worker only trains.

The queue is the one Celery's own router picks for the task's name (settings'
CELERY_TASK_ROUTES, else CELERY_TASK_DEFAULT_QUEUE), for the signatures the run's
workflow really sends as well as for each task by name.
"""

from celery import Celery
from django.conf import settings

from analysis import tasks, workflow
from promise.celery import app

QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}
TRAINING = {"analysis.tasks.train_candidate", "analysis.tasks.extend_candidate"}
READING_FILES = {
    "analysis.tasks.profile_dataset",
    "analysis.tasks.prepare_sample",
    "analysis.tasks.confirm_candidates",
    "analysis.tasks.score_prediction_file",
}


def queue_of(name: str, options: dict | None = None) -> str:
    return app.amqp.router.route(dict(options or {}), name)["queue"].name


def our_tasks() -> set[str]:
    """The tasks of analysis/tasks.py, as the app registered them."""
    defined = {value.name for value in vars(tasks).values() if hasattr(value, "apply_async")}
    assert defined <= set(app.tasks)
    return defined


def test_it_declares_the_three_queues():
    assert QUEUES == {"ingest", "train", "default"}


def test_it_routes_every_task_to_a_declared_queue():
    assert len(our_tasks()) >= 13
    assert {name: queue_of(name) for name in our_tasks()} == {
        name: "train" if name in TRAINING else "ingest" if name in READING_FILES else "default"
        for name in our_tasks()
    }


def test_it_routes_beats_periodic_tasks_to_default():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queue_of(entry["task"], entry.get("options")) == "default"


def test_it_sends_a_runs_steps_to_their_queues():
    first_round = workflow.run_pipeline(7, time_budget=60)
    prepare, training = first_round.tasks
    assert queue_of(prepare.task, prepare.options) == "ingest"
    assert {queue_of(s.task, s.options) for s in training.tasks} == {"train"}
    assert queue_of(training.body.task, training.body.options) == "default"
    second_round = workflow.second_round_pipeline(7, ["xgboost"], time_budget=60)
    assert {queue_of(s.task, s.options) for s in second_round.tasks} == {"train"}
    assert queue_of(second_round.body.task, second_round.body.options) == "default"


def test_a_worker_started_with_q_train_consumes_only_the_training_tasks():
    # What `celery worker -Q train` selects from the declared queues.
    worker_app = Celery(set_as_current=False)
    worker_app.conf.task_queues = settings.CELERY_TASK_QUEUES
    worker_app.amqp.queues.select(["train"])
    consumed = set(worker_app.amqp.queues.consume_from)
    assert consumed == {"train"}
    assert {name for name in our_tasks() if queue_of(name) in consumed} == TRAINING


def test_make_run_starts_one_worker_on_every_queue_and_beat():
    # bin/run.py runs the Procfile: one machine needs no queue set up by hand.
    from pathlib import Path

    from honcho.environ import parse_procfile

    procfile = parse_procfile((Path(__file__).resolve().parents[2] / "Procfile").read_text())
    worker = procfile.processes["worker"].split()
    assert set(worker[worker.index("-Q") + 1].split(",")) == QUEUES
    assert "beat" in procfile.processes["beat"].split()
