"""Champion and challenger: two trained candidates behind one prediction endpoint.

A deployment sends each request to one of its two arms. In split mode `challenger_percent`
of the requests go to the challenger and the rest to the champion; in shadow mode the
champion answers every request and the challenger is asked the same rows on the side (its
answer is only measured). Setting the split to 0 is the rollback (the champion answers
everything), to 100 the promotion (the challenger does); every setting, from the first,
is kept as a DeploymentChange with who made it and when.

The two candidates are the owner's, trained, different, and predict the same target of
the same dataset (one run, or two runs on that dataset). Serving them is in
deployment_serving.py, their numbers in deployment_metrics.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction

from . import deployment_metrics

MAX_NAME = 100
MAX_DEPLOYMENTS = 50  # per user


class DeploymentError(Exception):
    """A deployment that cannot be made or changed, with the sentence that says why, and
    the field it is about when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Deployment(models.Model):
    class Mode(models.TextChoices):
        SPLIT = "split", "Traffic split"
        SHADOW = "shadow", "Shadow"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments"
    )
    name = models.CharField(max_length=MAX_NAME)
    champion = models.ForeignKey(
        "analysis.CandidateResult", on_delete=models.CASCADE, related_name="+"
    )
    challenger = models.ForeignKey(
        "analysis.CandidateResult", on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.SPLIT)
    # Split mode: the share of requests the challenger answers, 0 (rollback) to 100 (promotion).
    challenger_percent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "analysis"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class DeploymentChange(models.Model):
    """One setting of a deployment: what it became, who set it and when."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        SPLIT = "split", "Split changed"
        ROLLBACK = "rollback", "Rollback (the champion answers everything)"
        PROMOTION = "promotion", "Promotion (the challenger answers everything)"
        SHADOW = "shadow", "Shadow mode"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    mode = models.CharField(max_length=8, choices=Deployment.Mode.choices)
    challenger_percent = models.PositiveSmallIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "analysis"
        ordering = ["-at", "-pk"]


def _action(mode: str, percent: int, *, created: bool) -> str:
    if created:
        return DeploymentChange.Action.CREATED
    if mode == Deployment.Mode.SHADOW:
        return DeploymentChange.Action.SHADOW
    if percent == 0:
        return DeploymentChange.Action.ROLLBACK
    if percent == 100:
        return DeploymentChange.Action.PROMOTION
    return DeploymentChange.Action.SPLIT


def _check_setting(mode: str, percent) -> None:
    if mode not in Deployment.Mode.values:
        raise DeploymentError(f"The mode is “split” or “shadow”, not “{mode}”.", field="mode")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise DeploymentError(
            "The challenger's share is a whole number of percent from 0 (rollback: the "
            "champion answers everything) to 100 (promotion).",
            field="challenger_percent",
        )


def arms_of(owner, *, champion: int, challenger: int) -> dict:
    """The owner's two candidates by id, as deployment_create takes them (page and API
    both ask this); an id that is not one of theirs is refused by its field."""
    # The candidates' model, through the foreign key: importing models.py would be a cycle.
    candidates = Deployment.champion.field.related_model.objects.select_related("run")
    arms = {}
    for field, pk in (("champion", champion), ("challenger", challenger)):
        arms[field] = candidates.filter(pk=pk, run__owner=owner).first()
        if arms[field] is None:
            raise DeploymentError(f"There is no candidate {pk} of yours.", field)
    return arms


def pair_refusal(champion, challenger) -> DeploymentError | None:
    """Why two trained candidates cannot share one endpoint, or None: the same model
    twice, another dataset, or another target (their records would not fit both)."""
    if champion.pk == challenger.pk:
        return DeploymentError("Choose two different models.", "challenger")
    first, second = champion.run, challenger.run
    if first.dataset_id != second.dataset_id:
        return DeploymentError(
            "The two models must be trained on the same dataset (of one run, or of two "
            "runs on that dataset).",
            "challenger",
        )
    if first.target != second.target:
        return DeploymentError(
            f"The two models predict different columns ({first.target} and {second.target}).",
            "challenger",
        )
    return None


def _check_pair(owner, champion, challenger) -> None:
    for field, candidate in (("champion", champion), ("challenger", challenger)):
        if candidate.run.owner_id != owner.pk:
            raise DeploymentError(f"There is no candidate {candidate.pk} of yours.", field)
        if candidate.status != candidate.Status.SUCCEEDED or not candidate.model_dir:
            raise DeploymentError(
                f"The {field} ({candidate.label}, run {candidate.run_id}) has no trained model.",
                field,
            )
    refusal = pair_refusal(champion, challenger)
    if refusal is not None:
        raise refusal


@transaction.atomic
def deployment_create(
    *, owner, name: str, champion, challenger, mode: str = "split", challenger_percent: int = 0
) -> Deployment:
    """A new deployment of `champion` and `challenger` (CandidateResults), its first
    setting recorded as made by `owner`."""
    name = " ".join(str(name).split())
    if not name:
        raise DeploymentError("Give the deployment a name.", "name")
    if len(name) > MAX_NAME:
        raise DeploymentError(f"The name is at most {MAX_NAME} characters.", "name")
    _check_setting(mode, challenger_percent)
    _check_pair(owner, champion, challenger)
    if Deployment.objects.filter(owner=owner).count() >= MAX_DEPLOYMENTS:
        raise DeploymentError(f"You have {MAX_DEPLOYMENTS} deployments; delete one first.")
    deployment = Deployment.objects.create(
        owner=owner,
        name=name,
        champion=champion,
        challenger=challenger,
        mode=mode,
        challenger_percent=challenger_percent,
    )
    _record(deployment, by=owner, created=True)
    return deployment


@transaction.atomic
def deployment_change(
    *, deployment: Deployment, by, mode: str | None = None, challenger_percent: int | None = None
) -> Deployment:
    """Set the mode and/or the split; a setting that changes something is recorded."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    mode = deployment.mode if mode is None else mode
    percent = deployment.challenger_percent if challenger_percent is None else challenger_percent
    _check_setting(mode, percent)
    if (mode, percent) == (deployment.mode, deployment.challenger_percent):
        return deployment
    deployment.mode, deployment.challenger_percent = mode, percent
    deployment.save(update_fields=["mode", "challenger_percent", "updated_at"])
    _record(deployment, by=by, created=False)
    return deployment


def _record(deployment: Deployment, *, by, created: bool) -> DeploymentChange:
    return DeploymentChange.objects.create(
        deployment=deployment,
        action=_action(deployment.mode, deployment.challenger_percent, created=created),
        mode=deployment.mode,
        challenger_percent=deployment.challenger_percent,
        by=by,
    )


@transaction.atomic
def deployment_delete(*, deployment: Deployment) -> None:
    forget_numbers_on_commit([deployment.pk])
    deployment.delete()


def forget_numbers_on_commit(deployment_ids: list[int]) -> None:
    """Drop these deployments' numbers in Redis once their deletion is committed (a rolled
    back deletion keeps them; left behind, a new deployment could never reuse the id's
    keys, but they would stay in Redis for ever)."""
    if deployment_ids:
        transaction.on_commit(lambda: [deployment_metrics.forget(pk) for pk in deployment_ids])


def forget_numbers_of_runs(run_ids: list[int]) -> None:
    """Before these runs are deleted: their candidates' deployments go with them (cascade),
    and so, on commit, do the deployments' numbers."""
    pair = models.Q(champion__run__in=run_ids) | models.Q(challenger__run__in=run_ids)
    forget_numbers_on_commit(list(Deployment.objects.filter(pair).values_list("pk", flat=True)))


def deployments_of(user):
    return Deployment.objects.filter(owner=user).select_related("champion__run", "challenger__run")


def deployments_of_pair(user, first, second):
    """The user's deployments of these two candidates, either way round."""
    return deployments_of(user).filter(
        models.Q(champion=first, challenger=second) | models.Q(champion=second, challenger=first)
    )
