"""Chromium: the operations dashboard as staff see it, with a real worker. Every panel
loads and refreshes itself through htmx, the runs chart is drawn, a failure opens its
traceback, a stuck run is failed with one click; screenshots at 1280 and 390 px go to
test-artifacts/screenshots/ops-dashboard-<width>.png. A user who is not staff sees none
of it."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from analysis import serving_metrics
from analysis.failures import record_traceback
from analysis.models import CandidateResult, Dataset, Run
from analysis.ops.views import PANELS
from tests.e2e.readable import HEIGHT, WIDTHS

FITS = """() => [...document.querySelectorAll('.js-plotly-plot')].every(
    p => p.querySelector('.main-svg').getBoundingClientRect().width <= p.clientWidth + 1)"""

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")


@pytest.fixture
def world(django_user_model):
    """Runs in every state, a failure with its traceback, a stuck run, predictions."""
    owner = django_user_model.objects.create_user("ada", password="pw-ada-4096")
    dataset = Dataset(owner=owner, name="churn.csv", status=Dataset.Status.READY, size_bytes=90_000)
    dataset.file.save("churn.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    dataset.save()
    for days, status in [(0, "succeeded"), (0, "succeeded"), (1, "failed"), (2, "cancelled")]:
        run = Run.objects.create(owner=owner, dataset=dataset, target="churned", status=status)
        Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=days))
    failed = Run.objects.create(
        owner=owner, dataset=dataset, target="tenure", status="failed",
        error="Something went wrong on our side while sampling the data.",
        finished_at=timezone.now(),
    )  # fmt: skip
    try:
        raise MemoryError("the sample did not fit")
    except MemoryError:
        record_traceback(run_id=failed.pk)
    stuck = Run.objects.create(owner=owner, dataset=dataset, target="plan", status="queued")
    Run.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=2))
    model = CandidateResult.objects.create(
        run=Run.objects.filter(status="succeeded").first(), name="forest",
        label="Random forest", model_bytes=2_500_000,
    )  # fmt: skip
    serving_metrics.reset()
    for ms in (4, 6, 9, 12):
        serving_metrics.record(model.pk, ms / 1000, rows=10, error=False, cache_hit=False)
    yield stuck
    serving_metrics.reset()


def test_staff_read_and_act_on_the_whole_system(
    app_page, traffic, violations, celery_worker, live_server, django_user_model, world, shoot
):
    django_user_model.objects.create_user("ops", password="pw-ops-4096", is_staff=True)
    page = app_page
    log_in(page, live_server, "ops", "pw-ops-4096")
    page.get_by_role("link", name="Operations").click()
    for name in PANELS:
        expect(page.get_by_test_id(f"ops-{name}").locator("h2")).to_be_visible()
    expect(page.locator("#ops-runs [data-drawn] .main-svg").first).to_be_attached()
    expect(page.get_by_test_id("ops-worker-table")).to_contain_text("test-")
    expect(page.get_by_test_id("ops-queue-table")).to_contain_text("train")
    expect(page.get_by_test_id("ops-serving-totals")).to_contain_text("4 requests (40 rows")
    expect(page.get_by_test_id("ops-storage-table")).to_contain_text("ada")
    expect(page.get_by_test_id("ops-health")).to_contain_text("Database: answers")
    failures = page.get_by_test_id("ops-failure-list")
    expect(failures).to_contain_text("while sampling the data")
    failures.locator("summary").first.click()
    expect(failures.locator("pre.traceback").first).to_contain_text("MemoryError")
    expect(page.get_by_test_id("ops-stuck-table")).to_contain_text(f"{world.pk}: plan")
    expect(page.get_by_test_id("ops-run-states")).to_contain_text("Succeeded 2")
    # The panels refresh themselves: the queues (every 3 s) are asked for again.
    page.wait_for_function(
        "() => performance.getEntriesByName(location.origin + '/ops/panels/queues/').length > 1"
    )
    paths = shoot(page, "ops-dashboard")
    # plotly.js lays a chart out again a moment after the window narrows: the phone's
    # screenshot is taken again once it has.
    page.set_viewport_size({"width": WIDTHS[1], "height": HEIGHT[WIDTHS[1]]})
    page.wait_for_function(FITS)
    page.screenshot(path=paths[1], full_page=True, animations="disabled")
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT[WIDTHS[0]]})
    assert all(path.exists() for path in paths)
    page.get_by_test_id("ops-stuck-table").get_by_role("button", name="Fail").click()
    expect(page.get_by_test_id("ops-stuck")).to_contain_text(f"Run {world.pk} was failed")
    expect(page.get_by_test_id("ops-no-stuck")).to_be_visible()
    world.refresh_from_db()
    assert world.status == Run.Status.FAILED
    assert traffic.htmx.count("/ops/panels/queues/") >= 2
    assert not traffic.failed, traffic.failed
    assert not violations, violations


def test_a_user_who_is_not_staff_sees_no_operations(app_page, live_server, world):
    page = app_page
    log_in(page, live_server, "ada", "pw-ada-4096")
    expect(page.get_by_role("link", name="Operations")).to_have_count(0)
    response = page.goto("/ops/")
    assert response.status == 404
    assert page.get_by_test_id("ops-queues").count() == 0
