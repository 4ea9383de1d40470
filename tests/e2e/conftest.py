"""Browser tests: Debian's Chromium, driven by Playwright, against a live server and a worker.

The app runs in pytest-django's `live_server` (a thread serving the transactional test
database and the static files); the Celery worker of `tests/worker.py` points at the same
database. Screenshots go to `test-artifacts/screenshots/` under the repository root
(git-ignored), named `<page>-<width>.png`.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.readable import HEIGHT, WIDTHS, shots

# Playwright's sync API drives an event loop in this thread; Django's ORM would refuse to
# run next to it (SynchronousOnlyOperation). The tests and the app's thread are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("PROMISE_E2E_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make chromium` (apt-get install chromium) installs it."
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative `page.goto("/")` goes to the live server (replaces pytest-playwright's own)."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, base_url):
    return {
        **browser_context_args,
        "base_url": base_url,
        "viewport": {"width": WIDTHS[0], "height": HEIGHT[WIDTHS[0]]},
        "accept_downloads": True,
        "locale": "en-US",
    }


class Traffic:
    """What the pages asked for: other hosts, htmx polls, failed responses, script errors."""

    def __init__(self, live_host: str):
        self.live_host = live_host
        self.external: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.static: dict[str, int] = {}
        self.htmx: list[str] = []

    def on_request(self, request):
        parts = urlsplit(request.url)
        if request.headers.get("hx-request") == "true":
            self.htmx.append(parts.path)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.live_host:
            self.external.append(request.url)

    def on_response(self, response):
        path = urlsplit(response.url).path
        if path.startswith("/static/"):
            self.static[path] = response.status
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.request.method} {response.url}")


@pytest.fixture
def traffic(live_server):
    return Traffic(urlsplit(live_server.url).netloc)


@pytest.fixture
def app_page(page, traffic):
    """The `page`, watched: no request may leave the live server, no script may throw."""
    page.set_default_timeout(15_000)
    page.on("request", traffic.on_request)
    page.on("response", traffic.on_response)
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    yield page
    assert not traffic.external, f"Requests to other hosts: {traffic.external}"
    assert not traffic.errors, f"Script errors on the pages: {traffic.errors}"


@pytest.fixture
def violations(app_page):
    """What Chromium said about the policy: its console errors and the violation events."""
    found: list[str] = []
    app_page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # Registered by the browser itself, before any page script, whatever the policy says.
    app_page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI"
        " + ' on ' + location.pathname + ' from ' + e.sourceFile + ':' + e.lineNumber"
        " + ' ' + e.sample))"
    )
    return found


@pytest.fixture(scope="session")
def shoot():
    """`shoot(page, name)`: full-page screenshots of the page at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> list[Path]:
        return shots(page, SCREENSHOTS, name)

    return take


@pytest.fixture
def signed_in(app_page, django_user_model, live_server):
    """A user logged in through the login form; returns the page."""
    django_user_model.objects.create_user("grace", password="calm-meadow-4096")
    page = app_page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("calm-meadow-4096")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    return page


@pytest.fixture
def grace_run(signed_in, django_user_model):
    """A succeeded run of the signed-in user's on a ready two-column table (x, y), without
    models: each test adds the ones it deploys or scores."""
    from django.core.files.base import ContentFile

    from analysis.models import Dataset, Run

    owner = django_user_model.objects.get(username="grace")
    dataset = Dataset(owner=owner, name="table.csv", status=Dataset.Status.READY)
    dataset.file.save("table.csv", ContentFile(b"x,y\n1,2\n"), save=False)
    dataset.profile = {"rows": 1, "columns": [{"name": "x"}, {"name": "y"}], "preview": []}
    dataset.save()
    return Run.objects.create(owner=owner, dataset=dataset, target="y", status="succeeded")


@pytest.fixture
def stored_run(django_user_model):
    """A finished regression run of two models with raw floats, long parameter values and
    every metric, stored as a worker would leave it (no training)."""
    from django.core.files.base import ContentFile

    from analysis.models import CandidateResult, Dataset, Run

    owner = django_user_model.objects.get(username="grace")
    profile = {
        "rows": 17817,
        "columns": [
            {"name": "carat", "kind": "numeric", "missing": 0, "distinct": 300},
            {"name": "price", "kind": "numeric", "missing": 0, "distinct": 9000},
        ],
        "preview": [{"carat": 0.23, "price": 326.0}],
    }
    dataset = Dataset(owner=owner, name="diamonds.csv", status=Dataset.Status.READY)
    dataset.profile, dataset.row_count, dataset.column_count = profile, 17817, 2
    dataset.file.save("diamonds.csv", ContentFile(b"carat,price\n0.23,326\n"), save=True)
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="price", status=Run.Status.SUCCEEDED,
        metric="r2", recommended="forest", sample_rows=17817, total_rows=17817,
        plan={"task": "regression", "detected_task": "regression", "train_rows": 14253,
              "holdout_rows": 3564},
    )  # fmt: skip
    models = [
        ("forest", "Random Forest", 0.9843322109988776, 4750.2216796875),
        ("xgboost", "XGBoost", 0.9794612345678901, 5123.987654321),
        ("lstm", "LSTM neural network", 0.003828123456, 39123.45678),
    ]
    for position, (name, label, r2, rmse) in enumerate(models):
        CandidateResult.objects.create(
            run=run, name=name, label=label, position=position, rank=position + 1,
            status="succeeded", cv_mean=r2 - 0.003, cv_std=0.0012345678,
            holdout_ci=[r2 - 0.01234567, r2 + 0.00987654],
            metrics={"r2": r2, "rmse": rmse, "mae": rmse * 0.61234567, "mape": 0.1234567891},
            params={"max_features": 0.7123456789, "criterion": "squared_error_with_a_long_name",
                    "n_estimators": 1200 + position},
            trials_done=37 + position, fit_seconds=123.456789, predict_ms_per_1000=2.3456789,
            model_bytes=123_456_789, tied_with_first=position > 0,
            cv_scores=[r2] * 5, charts={"inner_validation_rows": 32} if name == "lstm" else {},
        )  # fmt: skip
    return run
