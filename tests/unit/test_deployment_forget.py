"""A deployment's numbers in Redis go once the deployment is deleted and the deletion is
committed: deleted by itself, or with the run or the dataset of one of its models; a
deletion rolled back keeps them."""

import pytest
from django.db import transaction

from analysis import deployment_metrics, deployments, services
from analysis.deployments import Deployment
from analysis.serving_metrics import client
from tests.unit import deployment_world as world
from tests.unit import test_serving as shared

fresh_serving, pair, saved_models = shared.fresh_serving, world.pair, world.saved_models

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture
def measured(owner, pair) -> Deployment:
    """A deployment of the pair with numbers recorded for both arms and the shadow."""
    champion, challenger, _ = pair
    deployment = deployments.deployment_create(
        owner=owner, name="churn", champion=champion, challenger=challenger
    )
    for arm in deployment_metrics.ARMS:
        deployment_metrics.record(deployment.pk, arm, 0.001, result={"predictions": [1.0]})
    deployment_metrics.record_skipped(deployment.pk)
    return deployment


def numbers(deployment_id: int) -> list:
    return list(client().scan_iter(match=f"serving:deployment:{deployment_id}:*"))


@pytest.mark.parametrize(
    "delete",
    [
        lambda d: deployments.deployment_delete(deployment=d),
        lambda d: services.run_delete(run=d.challenger.run),
        lambda d: services.dataset_delete(dataset=d.champion.run.dataset),
    ],
    ids=["deployment", "run", "dataset"],
)
def test_it_forgets_the_numbers_once_the_deletion_commits(
    measured, delete, django_capture_on_commit_callbacks
):
    deployment_id = measured.pk  # deleting the deployment itself sets it to None
    with django_capture_on_commit_callbacks() as on_commit:
        delete(measured)
        assert numbers(deployment_id)  # not before the commit

    for callback in on_commit:
        callback()

    assert not Deployment.objects.filter(pk=deployment_id).exists()
    assert numbers(deployment_id) == []


def test_a_deletion_rolled_back_keeps_the_numbers(measured, django_capture_on_commit_callbacks):
    kept = sorted(numbers(measured.pk))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        with transaction.atomic():
            services.run_delete(run=measured.champion.run)
            raise Boom

    assert Deployment.objects.filter(pk=measured.pk).exists()
    assert sorted(numbers(measured.pk)) == kept
