"""The shared world of the tests: an owner and an outsider, and small tables to upload."""

import numpy as np
import pandas as pd
import pytest
from django.test import Client

pytest_plugins = ["tests.worker"]


@pytest.fixture(autouse=True)
def project_app_stays_current():
    """A test that leaves another Celery app current fails: the project's tasks are shared
    tasks, which every later test in the process would send through that app (and its
    broker, often a Redis the test has stopped since)."""
    from celery import current_app

    from promise.celery import app

    yield
    assert current_app._get_current_object() is app, (
        "this test made another Celery app current; create it with set_as_current=False"
    )


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-pass-123")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", password="outsider-pass-123")


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider) -> Client:
    client = Client()
    client.force_login(outsider)
    return client


def churn_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small classification table with numbers, a category, a date and missing values."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    charges = rng.normal(70, 20, rows).round(2)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    score = -0.05 * tenure + 0.03 * charges + (plan == "basic") * 1.0 + rng.normal(0, 0.7, rows)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100_000, 100_000 + rows),
            "tenure": tenure,
            "monthly_charges": charges,
            "plan": plan,
            "signup_date": signup.strftime("%Y-%m-%d"),
            "churned": np.where(score > np.median(score), "yes", "no"),
        }
    )
    frame.loc[frame.sample(frac=0.05, random_state=seed).index, "monthly_charges"] = np.nan
    return frame


@pytest.fixture
def profiled_dataset(owner):
    """A ready dataset of the owner's with columns a and b, stored without a worker."""
    from django.core.files.base import ContentFile

    from analysis.models import Dataset

    dataset = Dataset(owner=owner, name="mine.csv", status=Dataset.Status.READY)
    dataset.file.save("mine.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    dataset.profile = {"rows": 1, "columns": [{"name": "a"}, {"name": "b"}], "preview": []}
    dataset.save()
    return dataset


@pytest.fixture
def churn_csv(tmp_path):
    path = tmp_path / "churn.csv"
    churn_frame().to_csv(path, index=False)
    return path
