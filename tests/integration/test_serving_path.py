"""A run trained by the real worker is served by its compiled models: every family's
answers through the API equal its scikit-learn (or Keras) pipeline's, and staff see the
requests in the serving numbers."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from analysis import serving
from analysis.automl.compiled import ONNX_FILE, RECORD_FILE
from analysis.automl.fitted import FittedModel
from analysis.models import Dataset, Run
from tests.conftest import churn_frame
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    return client


def test_every_trained_family_is_served_compiled_with_the_pipelines_answers(
    celery_worker, owner_client, staff_client
):
    handle = io.BytesIO(churn_frame(rows=400).to_csv(index=False).encode())
    handle.name = "churn.csv"
    assert owner_client.post(reverse("dataset_upload"), {"file": handle}).status_code == 302
    dataset = Dataset.objects.latest("created_at")
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=60, what="profile"
    )
    response = owner_client.post(
        reverse("api_run_start", args=[dataset.pk]),
        json.dumps({"target": "churned", "time_budget": 60}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content[:500]
    run = Run.objects.get(pk=response.json()["id"])
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=300, what="the run"
    )
    candidates = list(Run.objects.get(pk=run.pk).candidates.filter(status="succeeded"))
    assert len(candidates) == 5, [c.error for c in Run.objects.get(pk=run.pk).candidates.all()]

    rows = churn_frame(rows=30, seed=9).drop(columns="churned").to_dict("records")
    for row in rows[::2]:
        row["signup_date"] = str(row["signup_date"])
    rows = json.loads(pd.DataFrame.from_records(rows).to_json(orient="records"))
    for candidate in candidates:
        directory = Path(candidate.model_dir)
        record = json.loads((directory / RECORD_FILE).read_text())
        if candidate.name == "lstm":
            assert record["onnx"] is None and "Keras" in record["reason"]
        else:
            assert record["onnx"] == ONNX_FILE and (directory / ONNX_FILE).exists(), record
        answer = owner_client.post(
            reverse("api_predict", args=[candidate.pk]),
            {"rows": rows},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content[:500]
        model = FittedModel.load(directory)
        labels, proba = model.predict_encoded(pd.DataFrame.from_records(rows))
        served = np.array(
            [[p[str(c)] for c in model.classes] for p in answer.json()["probabilities"]]
        )
        np.testing.assert_allclose(served, proba, atol=1e-5)  # answers carry 6 decimals
        assert answer.json()["predictions"] == model.decode(labels)
        entry = serving.MODELS.get(candidate.pk, candidate.model_dir, None)
        assert entry.model.path == ("keras" if candidate.name == "lstm" else "onnx")

    metrics = staff_client.get(reverse("api_serving_metrics")).json()
    ours = {c.pk for c in candidates}
    served_ids = {m["candidate"]: m for m in metrics["models"] if m["candidate"] in ours}
    assert set(served_ids) == ours
    assert all(m["requests"] == 1 and m["errors"] == 0 for m in served_ids.values())
    assert all(m["latency_ms"]["p99"] is not None for m in served_ids.values())
