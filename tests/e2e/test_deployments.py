"""Chromium: two models deployed from their comparison page, then promoted, rolled back
and measured on the deployment's page, which fits a 390 px screen."""

import pytest
from playwright.sync_api import expect

from analysis import deployment_metrics, deployment_serving
from analysis.deployments import Deployment
from tests.e2e.readable import shots
from tests.unit import deployment_world as world
from tests.unit.deployment_world import candidate

pytestmark = pytest.mark.django_db(transaction=True)

saved_models = world.saved_models  # the session's two trained models


def test_deploy_from_the_comparison_page_then_promote_and_roll_back(
    signed_in, grace_run, saved_models, tmp_path
):
    page, run = signed_in, grace_run
    candidate(run, saved_models["decision_tree"][0], "decision_tree")
    candidate(run, saved_models["linear"][0], "linear")
    rows = saved_models["decision_tree"][1]

    page.goto(f"/runs/{run.pk}/compare/?first=decision_tree&second=linear")
    section = page.get_by_test_id("deployments")
    expect(section).to_contain_text("Decision tree is the champion")
    section.get_by_label("Name").fill("Tree, then linear")
    section.get_by_label("Challenger's share (%)").fill("40")
    section.get_by_role("button", name="Deploy").click()
    expect(page.get_by_test_id("deployment-setting")).to_contain_text("40% of requests")

    deployment = Deployment.objects.get()
    deployment_metrics.forget(deployment.pk)  # numbers an earlier test left under this id
    for start in range(0, 20, 5):
        deployment_serving.predict(deployment, rows[start : start + 5], arm="challenger")
    page.get_by_role("button", name="Promote the challenger").click()
    expect(page.get_by_test_id("deployment-setting")).to_contain_text("promoted")
    arms = page.get_by_test_id("deployment-arms")
    expect(arms.locator("tbody tr").nth(1).locator("td").nth(1)).to_have_text("4")
    page.get_by_role("button", name="Roll back to the champion").click()
    expect(page.get_by_test_id("deployment-setting")).to_contain_text("rolled back")
    history = page.get_by_test_id("deployment-history")
    expect(history.locator("tbody tr")).to_have_count(3)
    expect(history.locator("tbody tr").first).to_contain_text("grace")
    expect(history.locator("tbody tr").first).to_contain_text("Rollback")
    shots(page, tmp_path, "deployment")

    page.goto(f"/runs/{run.pk}/compare/?first=decision_tree&second=linear")
    expect(page.get_by_test_id("deployments")).to_contain_text("Tree, then linear")
    shots(page, tmp_path, "compare-deployments")
