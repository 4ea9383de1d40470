"""Celery tasks: thin wrappers that take ids and call one service each."""

from celery import chain, chord, shared_task

from . import services
from .automl.candidates import CANDIDATES
from .leases import LeaseHeld

# A killed worker's task goes back to the queue (acks_late, reject_on_worker_lost in
# settings); every service claims its work with a conditional update, so a re-run is safe.


@shared_task
def profile_dataset(dataset_id: int) -> None:
    services.dataset_profile(dataset_id=dataset_id)


@shared_task(bind=True)
def prepare_sample(self, run_id: int) -> None:
    services.run_prepare(run_id=run_id, task_id=self.request.id)


@shared_task(bind=True, max_retries=None)
def train_candidate(self, run_id: int, name: str) -> None:
    try:
        services.candidate_train(run_id=run_id, name=name, task_id=self.request.id)
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


def run_pipeline(run_id: int, *, time_budget: int):
    """prepare_sample, then every candidate in parallel, then the second round's plan,
    which sends `second_round_pipeline` or ranks at once.

    A candidate that runs a minute past the whole run's budget is stopped (soft limit,
    recorded as that candidate's failure), and killed 30 s later if it does not stop.
    """
    limits = {"soft_time_limit": time_budget + 60, "time_limit": time_budget + 90}
    return chain(
        prepare_sample.si(run_id),
        chord(
            [train_candidate.si(run_id, c.name).set(**limits) for c in CANDIDATES],
            plan_second_round.si(run_id),
        ),
    )


def second_round_pipeline(run_id: int, names: list[str], *, time_budget: int):
    """The continued searches in parallel, in the planned order, then the ranking."""
    limits = {"soft_time_limit": time_budget + 60, "time_limit": time_budget + 90}
    return chord(
        [extend_candidate.si(run_id, name).set(queue="train", **limits) for name in names],
        rank_and_explain.si(run_id),
    )
