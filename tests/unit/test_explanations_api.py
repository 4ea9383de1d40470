"""Per-prediction explanations through the predict API ("explain": true) and on the
prediction page (a waterfall), on models saved as training saves them."""

import json

import pytest
from django.urls import reverse

from analysis import explanations
from tests.unit.test_prediction_input import post, record
from tests.unit.test_serving import fresh_serving, make_candidate, run, save_model  # noqa: F401

pytestmark = pytest.mark.django_db


def trained(run, tmp_path, family, task):  # noqa: F811
    """A candidate whose model sits where training puts it: <run>/candidates/<family>,
    beside the run's holdout.parquet (the linear model's background)."""
    model_dir = tmp_path / "run" / "candidates" / family
    model, holdout = save_model(model_dir, family, task)
    holdout.to_parquet(tmp_path / "run" / "holdout.parquet")
    return make_candidate(run, model_dir, name=family), model, holdout


CASES = [
    ("decision_tree", "binary"),
    ("random_forest", "multiclass"),
    ("xgboost", "regression"),
    ("xgboost", "binary"),
    ("linear", "multiclass"),
    ("linear", "regression"),
]


@pytest.mark.parametrize(("family", "task"), CASES)
def test_explain_true_adds_contributions_that_add_up_to_each_answer(
    owner_client,
    run,  # noqa: F811
    tmp_path,
    family,
    task,
):
    candidate, model, holdout = trained(run, tmp_path, family, task)
    rows = [record(holdout, i) for i in range(4)]
    response = post(owner_client, candidate, {"rows": rows, "explain": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["explanations"]) == 4
    for i, answer in enumerate(body["explanations"]):
        assert set(answer["contributions"]) == set(model.features.columns)
        total = answer["base_value"] + sum(answer["contributions"].values())
        assert total == pytest.approx(answer["value"], abs=1e-6)
        if task == "regression":
            prediction = body["predictions"][i]
            assert answer["output"] == "prediction"
            assert abs(total - prediction) <= 1e-4 * max(1.0, abs(prediction))
        else:
            assert answer["class"] == body["predictions"][i]
            if answer["output"] == "probability":
                assert total == pytest.approx(
                    body["probabilities"][i][str(answer["class"])], abs=1e-4
                )
            else:
                assert answer["output"] == "log-odds"


def test_without_explain_there_are_no_explanations(owner_client, run, tmp_path):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "decision_tree", "binary")
    body = post(owner_client, candidate, {"row": record(holdout)}).json()
    assert "explanations" not in body and body["predictions"]


@pytest.mark.parametrize("flag", ["yes", 1, None, {"on": True}])
def test_explain_must_be_a_boolean(owner_client, run, tmp_path, flag):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "decision_tree", "binary")
    response = post(owner_client, candidate, {"row": record(holdout), "explain": flag})
    assert response.status_code == 400
    assert response.json()["error"] == (
        'Send "explain" as true or false (JSON booleans, without quotes).'
    )


def test_too_many_records_to_explain_are_refused(owner_client, run, tmp_path):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "decision_tree", "binary")
    rows = [record(holdout, 0)] * (explanations.MAX_EXPLAINED_ROWS + 1)
    response = post(owner_client, candidate, {"rows": rows, "explain": True})
    assert response.status_code == 400
    assert "at most 100 records" in response.json()["error"]


def test_the_lstm_predicts_and_says_why_it_is_not_explained(owner_client, run, tmp_path):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "lstm", "regression")
    body = post(owner_client, candidate, {"row": record(holdout), "explain": True}).json()
    assert body["predictions"] and "explanations" not in body
    assert body["explanations_unavailable"].startswith("The LSTM's predictions are not explained")


def test_another_users_model_is_not_found(outsider_client, run, tmp_path):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "decision_tree", "binary")
    response = post(outsider_client, candidate, {"row": record(holdout), "explain": True})
    assert response.status_code == 404


def page_post(client, candidate, holdout):
    values = {k: "" if v is None else str(v) for k, v in record(holdout).items()}
    return client.post(reverse("candidate_predict", args=[candidate.pk]), values)


def test_the_prediction_page_draws_the_waterfall(owner_client, run, tmp_path):  # noqa: F811
    candidate, model, holdout = trained(run, tmp_path, "xgboost", "binary")
    response = page_post(owner_client, candidate, holdout)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="explanation"' in html and "Why this prediction" in html
    spec = json.loads(
        html.split('id="fig-explain-1" type="application/json">', 1)[1].split("</script>", 1)[0]
    )
    (bars,) = spec["data"]
    assert bars["y"][0] == "base value" and bars["y"][-1] == "model output"
    assert set(bars["y"][1:-1]) == set(model.features.columns)
    # the bars walk from the base value to the output
    assert bars["base"][1] + sum(bars["x"][1:-1]) == pytest.approx(bars["x"][-1], abs=1e-6)
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("log-odds of y = ")
    assert spec["layout"]["yaxis"]["title"]["text"]
    assert "js/charts.js" in html


def test_the_prediction_page_of_an_lstm_says_why_there_is_no_waterfall(owner_client, run, tmp_path):  # noqa: F811
    candidate, _, holdout = trained(run, tmp_path, "lstm", "regression")
    html = page_post(owner_client, candidate, holdout).content.decode()
    assert 'data-testid="prediction"' in html and 'data-testid="explanation"' not in html
    assert "The LSTM&#x27;s predictions are not explained" in html
