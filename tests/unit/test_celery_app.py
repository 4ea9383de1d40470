"""The Celery app's broker settings, against the limits the rest of PROMISE allows."""

from analysis.api import RunStartSerializer
from analysis.forms import RunForm
from analysis.workflow import run_pipeline
from promise.celery import app


def test_it_keeps_a_running_task_from_redelivery_for_longer_than_the_longest_run():
    # Redis gives an unacknowledged message to another worker after the visibility
    # timeout; a training task of the largest budget must be over (hard limit) by then.
    longest = max(
        RunStartSerializer().fields["time_budget"].max_value,
        RunForm.base_fields["time_budget"].max_value,
    )
    training = run_pipeline(1, time_budget=longest).tasks[-1].tasks
    hard_limit = max(task.options["time_limit"] for task in training)

    assert app.conf.broker_transport_options["visibility_timeout"] > hard_limit
