"""Celery tasks: thin wrappers that take ids and call one service each.

Which task follows which is analysis/workflow.py's business; it sends these by name.
"""

from celery import shared_task
from django.conf import settings

from . import services
from .leases import LeaseHeld
from .ops import housekeeping
from .profiling_slots import SlotsTaken, profiling_slot
from .reconcile import reconcile as reconcile_pass

# A killed worker's task goes back to the queue (acks_late, reject_on_worker_lost in
# settings); every service claims its work with a conditional update, so a re-run is safe.


# A profile stops itself at PROMISE_MAX_PROFILE_SECONDS; Celery's soft limit is the backstop.
@shared_task(
    bind=True, max_retries=None, soft_time_limit=settings.PROMISE_MAX_PROFILE_SECONDS + 120
)
def profile_dataset(self, dataset_id: int) -> None:
    try:
        with profiling_slot(dataset_id):
            services.dataset_profile(dataset_id=dataset_id)
    except SlotsTaken as busy:  # the owner's other files hold every slot: back to the queue
        raise self.retry(countdown=busy.seconds) from busy


@shared_task(bind=True)
def prepare_sample(self, run_id: int) -> None:
    services.run_prepare(run_id=run_id, task_id=self.request.id)


@shared_task(bind=True, max_retries=None)
def train_candidate(self, run_id: int, name: str) -> None:
    try:
        services.candidate_train(
            run_id=run_id, name=name, task_id=self.request.id, hostname=self.request.hostname or ""
        )
    except LeaseHeld as held:
        # A live worker is training it: this copy comes back once that lease would have
        # lapsed, and trains the candidate only if its worker died meanwhile.
        raise self.retry(countdown=held.seconds + 1) from held


@shared_task
def plan_second_round(run_id: int) -> None:
    services.run_second_round(run_id=run_id)


@shared_task(bind=True)
def extend_candidate(self, run_id: int, name: str) -> None:
    services.candidate_extend(run_id=run_id, name=name, task_id=self.request.id)


@shared_task
def rank_and_explain(run_id: int) -> None:
    services.run_rank(run_id=run_id)


@shared_task
def confirm_candidates(run_id: int, candidate_ids: list[int]) -> None:
    services.run_confirm(run_id=run_id, candidate_ids=candidate_ids)


@shared_task
def reconcile() -> dict:
    """Send again the work whose task was lost (on Celery beat's schedule, in settings)."""
    return reconcile_pass()


@shared_task
def expire_datasets() -> dict:
    """Delete the datasets past their retention (on beat's schedule; off by default)."""
    return housekeeping.expire_datasets().as_dict()


@shared_task
def expire_uploads() -> dict:
    """Remove every user's abandoned unfinished uploads (on beat's schedule)."""
    return housekeeping.expire_uploads().as_dict()


@shared_task
def remove_leftovers() -> dict:
    """Remove partial files of dead writers and files no row points to (beat's schedule)."""
    return housekeeping.remove_leftovers().as_dict()


@shared_task
def prune_audit() -> int:
    """Remove audit entries past their retention (on beat's schedule)."""
    from django.utils import timezone

    from .audit import prune_audit

    return prune_audit(timezone.now())


@shared_task
def score_prediction_file(batch_id: int) -> None:
    """Check and score an uploaded file of records (analysis/prediction_files.py)."""
    from .prediction_files import batch_prediction_score

    batch_prediction_score(batch_id=batch_id)
