"""Deployments on the pages: deployed from the comparison page, then set, rolled back,
promoted and deleted from their own page, which shows the numbers per arm and the history;
another user's are not found."""

import re

import pytest
from django.urls import reverse

from analysis import deployment_serving
from analysis.deployments import Deployment
from analysis.models import Run
from tests.unit import deployment_world as world
from tests.unit import test_serving as shared
from tests.unit.deployment_world import candidate, create, predict

fresh_serving, pair, saved_models = shared.fresh_serving, world.pair, world.saved_models

pytestmark = pytest.mark.django_db


def _compare_url(champion, challenger):
    url = reverse("run_compare", args=[champion.run_id])
    return f"{url}?first={champion.name}&second={challenger.name}"


def _deploy(client, champion, challenger, **fields):
    body = {"name": "Tree vs linear", "mode": "split", "challenger_percent": 25,
            "champion": champion.pk, "challenger": challenger.pk, **fields}  # fmt: skip
    return client.post(reverse("deployment_create", args=[champion.run_id]), body)


def test_it_offers_to_deploy_the_pair_on_the_comparison_page(owner_client, pair):
    champion, challenger, _ = pair
    page = owner_client.get(_compare_url(champion, challenger)).content.decode()
    section = page.split('data-testid="deployments"')[1].split("</section>")[0]
    assert "Deploy" in section
    assert f'name="champion" value="{champion.pk}"' in section
    assert f'name="challenger" value="{challenger.pk}"' in section


def test_deploying_from_the_comparison_page_opens_the_deployment(owner_client, pair):
    champion, challenger, _ = pair
    response = _deploy(owner_client, champion, challenger)
    deployment = Deployment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("deployment_page", args=[deployment.pk])
    assert (deployment.champion, deployment.challenger) == (champion, challenger)
    assert (deployment.mode, deployment.challenger_percent) == ("split", 25)
    page = owner_client.get(_compare_url(champion, challenger)).content.decode()
    assert reverse("deployment_page", args=[deployment.pk]) in page


def test_the_page_shows_each_arms_numbers_and_the_history(owner_client, owner, pair):
    champion, challenger, rows = pair
    deployment = create(owner_client, champion, challenger, mode="shadow")
    for start in range(0, 30, 10):
        predict(owner_client, deployment["id"], rows[start : start + 10])
    assert deployment_serving.SHADOWS.wait(timeout=30)
    page = owner_client.get(reverse("deployment_page", args=[deployment["id"]])).content.decode()
    arms = page.split('data-testid="deployment-arms"')[1].split("</table>")[0]
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>.*?</td>", arms, re.S)
    ]
    assert cells[1:4] == ["3", "0", "0"]  # champion: answered, shadowed, errors (8 cells a row)
    assert cells[8 + 1 : 8 + 4] == ["0", "3", "0"]  # challenger
    assert "On 3 shadowed requests (30 rows)" in page
    history = page.split('data-testid="deployment-history"')[1].split("</table>")[0]
    assert "Created" in history and owner.username in history


def test_rollback_and_promotion_buttons_record_who_did_it(owner_client, owner, pair):
    champion, challenger, _ = pair
    _deploy(owner_client, champion, challenger)
    deployment = Deployment.objects.get()
    url = reverse("deployment_page", args=[deployment.pk])
    assert owner_client.post(url, {"action": "promote"}).status_code == 302
    deployment.refresh_from_db()
    assert deployment.challenger_percent == 100
    owner_client.post(url, {"action": "rollback"})
    changes = list(deployment.changes.values_list("action", "by__username"))
    assert changes == [("rollback", "owner"), ("promotion", "owner"), ("created", "owner")]
    assert "rolled back" in owner_client.get(url).content.decode()


def test_the_setting_form_changes_the_split_and_refuses_a_bad_one(owner_client, pair):
    champion, challenger, _ = pair
    _deploy(owner_client, champion, challenger)
    deployment = Deployment.objects.get()
    url = reverse("deployment_page", args=[deployment.pk])
    owner_client.post(url, {"mode": "split", "challenger_percent": "60"})
    deployment.refresh_from_db()
    assert deployment.challenger_percent == 60
    refused = owner_client.post(url, {"mode": "split", "challenger_percent": "150"})
    assert refused.status_code == 400 and b"100" in refused.content
    deployment.refresh_from_db()
    assert deployment.challenger_percent == 60


def test_a_bad_deployment_is_refused_with_a_sentence(owner_client, pair):
    champion, challenger, _ = pair
    same = _deploy(owner_client, champion, champion)
    assert same.status_code == 400 and b"two different models" in same.content
    assert _deploy(owner_client, champion, challenger, name="").status_code == 400
    assert not Deployment.objects.exists()


def test_another_users_deployment_is_not_found(owner_client, outsider_client, pair):
    champion, challenger, _ = pair
    _deploy(owner_client, champion, challenger)
    deployment = Deployment.objects.get()
    page = reverse("deployment_page", args=[deployment.pk])
    assert outsider_client.get(page).status_code == 404
    assert outsider_client.post(page, {"action": "promote"}).status_code == 404
    delete = reverse("deployment_delete", args=[deployment.pk])
    assert outsider_client.post(delete).status_code == 404
    assert _deploy(outsider_client, champion, challenger).status_code == 404
    deployment.refresh_from_db()
    assert deployment.challenger_percent == 25


def test_delete_removes_the_deployment(owner_client, pair):
    champion, challenger, _ = pair
    _deploy(owner_client, champion, challenger)
    deployment = Deployment.objects.get()
    response = owner_client.post(reverse("deployment_delete", args=[deployment.pk]))
    assert response.status_code == 302 and not Deployment.objects.exists()


def test_two_runs_on_one_dataset_deploy_their_best_models(owner_client, owner, pair):
    champion, challenger, _ = pair
    second_run = Run.objects.create(owner=owner, dataset=champion.run.dataset, target="y")
    best = candidate(second_run, challenger.model_dir, "linear")
    page = owner_client.get(
        reverse("run_compare_runs", args=[champion.run_id]) + f"?other={second_run.pk}"
    ).content.decode()
    section = page.split('data-testid="deployments"')[1].split("</section>")[0]
    assert f'name="challenger" value="{best.pk}"' in section
    response = _deploy(owner_client, champion, best)
    assert response.status_code == 302, response.content.decode()[-600:]
    deployment = Deployment.objects.get()
    assert response.url == reverse("deployment_page", args=[deployment.pk])
    assert deployment.challenger == best


def test_runs_that_predict_different_columns_offer_no_deployment(owner_client, owner, pair):
    champion, challenger, _ = pair
    other = Run.objects.create(owner=owner, dataset=champion.run.dataset, target="z")
    candidate(other, challenger.model_dir, "linear")
    url = reverse("run_compare_runs", args=[champion.run_id]) + f"?other={other.pk}"
    page = owner_client.get(url)
    assert page.status_code == 200 and b'data-testid="deployments"' not in page.content
