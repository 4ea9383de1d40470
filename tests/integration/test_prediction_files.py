"""A file of records scored by the real worker, through the page and the API: upload,
progress, the scored CSV (formula-safe), and the refusals by column."""

import csv
import io

import pandas as pd
import pytest
from django.urls import reverse

from analysis.batch_predictions import BatchPrediction
from analysis.models import Run
from tests.broker import PrivateRedis, celery_app_on
from tests.unit.test_serving import make_candidate, save_model
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = ['=HYPERLINK("http://x")', "+SUM(1)", "-2", "@cmd", "\tTAB", "-1+1", "\rCR"]


@pytest.fixture
def trained(owner, profiled_dataset, tmp_path):
    run = Run.objects.create(owner=owner, dataset=profiled_dataset, target="y")
    model, holdout = save_model(tmp_path / "tree", "decision_tree", "multiclass")
    return make_candidate(run, tmp_path / "tree"), model, holdout


def upload(name: str, frame: pd.DataFrame) -> io.BytesIO:
    # Every cell quoted: pandas would write a leading carriage return bare, and read it as
    # nothing.
    handle = io.BytesIO(frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode())
    handle.name = name
    return handle


def finished(batch_id: int) -> BatchPrediction:
    return wait_for(
        lambda: (b := BatchPrediction.objects.get(pk=batch_id)).done and b,
        timeout=60,
        what="the file to be scored",
    )


def records(holdout: pd.DataFrame, rows: int) -> pd.DataFrame:
    frame = holdout.head(rows).reset_index(drop=True)
    frame.insert(0, "ref", [HOSTILE[i % len(HOSTILE)] for i in range(rows)])
    return frame


def test_the_page_scores_a_file_and_hands_back_a_formula_safe_csv(
    celery_worker, owner_client, trained
):
    candidate, model, holdout = trained
    frame = records(holdout, 60)
    frame.loc[1, "plan"] = "platinum"
    page = owner_client.get(reverse("candidate_predict", args=[candidate.pk]))
    assert b'data-testid="score-file"' in page.content

    response = owner_client.post(
        reverse("prediction_file_upload", args=[candidate.pk]), {"file": upload("new.csv", frame)}
    )

    batch = BatchPrediction.objects.get()
    assert response.url == reverse("prediction_file_page", args=[batch.pk])
    batch = finished(batch.pk)
    assert batch.status == "succeeded", batch.error
    assert (batch.rows_total, batch.ignored_columns) == (60, ["ref"])
    assert batch.unseen_categories == {"plan": ["platinum"]}
    shown = owner_client.get(reverse("prediction_file_page", args=[batch.pk])).content.decode()
    assert "60 rows scored" in shown and "new-predictions.csv" in shown
    download = owner_client.get(reverse("prediction_file_download", args=[batch.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    classes = [str(c) for c in model.classes]
    assert rows[0] == [*frame.columns, "prediction", *(f"probability_{c}" for c in classes)]
    expected = model.predict(frame)
    assert [r[len(frame.columns)] for r in rows[1:]] == [str(p) for p in expected]
    refs = [r[0] for r in rows[1:8]]
    assert refs == [
        "'=HYPERLINK(\"http://x\")", "'+SUM(1)", "-2", "'@cmd", "'\tTAB", "'-1+1", "'\rCR"
    ]  # fmt: skip


def test_the_api_scores_a_file_with_progress_and_a_download(celery_worker, owner_client, trained):
    candidate, model, holdout = trained
    frame = records(holdout, 40)

    response = owner_client.post(
        reverse("api_predict_file", args=[candidate.pk]), {"file": upload("api.csv", frame)}
    )

    assert response.status_code == 202, response.content
    batch = finished(response.json()["id"])
    body = owner_client.get(reverse("api_prediction_file", args=[batch.pk])).json()
    assert (body["status"], body["rows_done"], body["percent"]) == ("succeeded", 40, 100)
    result = owner_client.get(body["result"])
    assert result["Content-Type"] == "text/csv"
    scored = pd.read_csv(io.BytesIO(b"".join(result.streaming_content)))
    assert scored["prediction"].astype(str).tolist() == [str(p) for p in model.predict(frame)]


def test_a_bad_value_fails_the_file_with_its_row_and_column(celery_worker, owner_client, trained):
    candidate, _, holdout = trained
    frame = records(holdout, 30)
    frame["x"] = frame["x"].astype(object)
    frame.loc[24, "x"] = "lots"

    response = owner_client.post(
        reverse("api_predict_file", args=[candidate.pk]), {"file": upload("bad.csv", frame)}
    )

    batch = finished(response.json()["id"])
    body = owner_client.get(reverse("api_prediction_file", args=[batch.pk])).json()
    assert body["status"] == "failed" and body["result"] is None
    assert body["fields"] == {"x": ["row 25: 'lots' is not a number; this column takes numbers."]}
    page = owner_client.get(reverse("prediction_file_page", args=[batch.pk])).content.decode()
    assert "row 25: &#x27;lots&#x27; is not a number" in page


def test_a_missing_column_is_refused_before_anything_is_queued(owner_client, trained):
    candidate, _, holdout = trained
    frame = records(holdout, 5).drop(columns=["amount"])

    response = owner_client.post(
        reverse("api_predict_file", args=[candidate.pk]), {"file": upload("short.csv", frame)}
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "amount": ["this column of the model is missing from the file's header."]
    }
    assert not BatchPrediction.objects.exists()


def test_another_users_file_is_not_found(owner_client, outsider_client, trained):
    candidate, _, holdout = trained
    batch = BatchPrediction.objects.create(
        owner=candidate.run.owner, candidate=candidate, name="x.csv", status="succeeded"
    )
    assert (
        outsider_client.post(
            reverse("api_predict_file", args=[candidate.pk]), {"file": upload("a.csv", holdout)}
        ).status_code
        == 404
    )
    for name in ("api_prediction_file", "api_prediction_file_result"):
        assert outsider_client.get(reverse(name, args=[batch.pk])).status_code == 404
    for name in ("prediction_file_page", "prediction_file_download"):
        assert outsider_client.get(reverse(name, args=[batch.pk])).status_code == 404


def test_a_file_sent_while_the_queue_is_down_is_kept_until_it_is_back(
    owner_client, trained, tmp_path_factory
):
    candidate, _, holdout = trained
    server = PrivateRedis(tmp_path_factory.mktemp("queue-down"))
    server.start()
    try:
        with celery_app_on(server.url):
            server.kill()
            response = owner_client.post(
                reverse("api_predict_file", args=[candidate.pk]),
                {"file": upload("late.csv", records(holdout, 5))},
            )
    finally:
        server.stop()
    # The reconciler sends it once the queue answers (tests/integration/test_broker_outage.py).
    assert response.status_code == 503
    assert "there is no need to upload it again" in response.json()["error"]
    assert BatchPrediction.objects.get().status == "queued"
