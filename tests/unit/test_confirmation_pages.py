"""Whole-file confirmation on the pages and the API, from stored data (no worker)."""

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from analysis import services
from analysis.models import CandidateResult, Dataset, Run

pytestmark = pytest.mark.django_db

Confirmation = CandidateResult.Confirmation


def make_run(owner, *, sample_rows: int = 300, total_rows: int = 1000) -> Run:
    dataset = Dataset(owner=owner, name="t.csv", status=Dataset.Status.READY)
    dataset.profile = {"rows": total_rows, "columns": [{"name": "size"}, {"name": "label"}]}
    dataset.file.save("t.csv", ContentFile(b"size,label\n1,yes\n"), save=True)
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="label", status=Run.Status.SUCCEEDED,
        metric="accuracy", recommended="forest", sample_rows=sample_rows,
        total_rows=total_rows, plan={"task": "binary", "detected_task": "binary",
                                     "holdout_rows": 60},
    )  # fmt: skip
    for rank, name in enumerate(["forest", "linear", "decision_tree"], start=1):
        CandidateResult.objects.create(
            run=run, name=name, label=name.title(), position=rank, rank=rank,
            status=CandidateResult.Status.SUCCEEDED, metrics={"accuracy": 0.9 - rank / 100},
            holdout_ci=[0.85, 0.95],
        )  # fmt: skip
    return run


def metric_rows(page: str) -> list[list[str]]:
    """The cells of the first holdout-vs-whole-file table, row by row, as text."""
    table = page.split('data-testid="full-file-metrics"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    ]


def compare_url(run: Run) -> str:
    return reverse("run_compare", args=[run.pk]) + "?first=forest&second=linear"


def test_it_shows_holdout_and_whole_file_side_by_side_with_the_difference(owner, owner_client):
    run = make_run(owner)
    run.candidates.filter(name="forest").update(
        confirm_status=Confirmation.SUCCEEDED,
        full_metrics={"accuracy": 0.87, "f1_macro": 0.8},
        full_rows=640,
    )

    page = owner_client.get(compare_url(run)).content.decode()

    assert "Whole file (640 rows)" in page and "Sample holdout (60 rows)" in page
    assert metric_rows(page)[:2] == [
        ["Accuracy", "0.8900", "0.8700", "-0.0200"], ["Macro F1", "–", "0.8000", "–"]
    ]  # fmt: skip
    assert 'data-testid="within-interval"' in page


def test_it_warns_when_the_whole_file_score_is_outside_the_holdout_interval(owner, owner_client):
    run = make_run(owner)
    run.candidates.filter(name="forest").update(
        confirm_status=Confirmation.SUCCEEDED, full_metrics={"accuracy": 0.7}, full_rows=640
    )

    page = owner_client.get(compare_url(run)).content.decode()

    assert "is outside the holdout's 95% interval (0.8500 to 0.9500)" in page


def test_it_says_when_no_holdout_interval_is_available(owner, owner_client):
    run = make_run(owner)
    run.candidates.filter(name="forest").update(
        confirm_status=Confirmation.SUCCEEDED,
        full_metrics={"accuracy": 0.7},
        full_rows=640,
        holdout_ci=None,
    )

    page = owner_client.get(compare_url(run)).content.decode()

    assert "No interval is available for the holdout score" in page


def test_it_notes_the_whole_file_score_on_the_leaderboard(owner, owner_client):
    run = make_run(owner)
    run.candidates.filter(name="forest").update(
        confirm_status=Confirmation.SUCCEEDED, full_metrics={"accuracy": 0.88}, full_rows=640
    )

    page = owner_client.get(reverse("run_detail", args=[run.pk])).content.decode()

    assert "full file: 0.8800 (\u22120.0100)" in page


def test_it_offers_the_button_only_for_a_sampled_run(owner, owner_client):
    sampled, whole = make_run(owner), make_run(owner, sample_rows=1000)

    assert "Confirm on the whole file" in owner_client.get(compare_url(sampled)).content.decode()
    assert "Confirm on the whole file" not in owner_client.get(compare_url(whole)).content.decode()


def test_it_queues_a_confirmation_from_the_page_and_goes_back(
    owner, owner_client, django_capture_on_commit_callbacks
):
    run = make_run(owner)
    candidate = run.candidates.get(name="decision_tree")

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(
            reverse("candidate_confirm", args=[candidate.pk]), {"next": compare_url(run)}
        )

    assert response.status_code == 302 and response.url == compare_url(run)
    candidate.refresh_from_db()
    assert candidate.confirm_status == Confirmation.QUEUED
    assert len(callbacks) == 1


def test_it_ignores_a_way_back_to_another_site(owner, owner_client):
    candidate = make_run(owner).candidates.get(name="linear")

    response = owner_client.post(
        reverse("candidate_confirm", args=[candidate.pk]), {"next": "https://evil.example/"}
    )

    assert response.url == reverse("run_detail", args=[candidate.run_id])


def test_it_starts_a_confirmation_through_the_api(owner, owner_client):
    candidate = make_run(owner).candidates.get(name="linear")

    response = owner_client.post(reverse("api_candidate_confirm", args=[candidate.pk]))

    assert response.status_code == 202
    assert response.json()["confirm_status"] == "queued"


def test_it_hides_another_users_candidate_from_the_api(owner, outsider_client):
    candidate = make_run(owner).candidates.get(name="linear")

    response = outsider_client.post(reverse("api_candidate_confirm", args=[candidate.pk]))

    assert response.status_code == 404
    assert CandidateResult.objects.get(pk=candidate.pk).confirm_status == ""


def test_it_hides_another_users_candidate_from_the_page(owner, outsider_client):
    candidate = make_run(owner).candidates.get(name="linear")

    response = outsider_client.post(reverse("candidate_confirm", args=[candidate.pk]))

    assert response.status_code == 404


def test_it_explains_that_a_run_on_every_row_has_nothing_to_confirm(owner, owner_client):
    candidate = make_run(owner, sample_rows=1000).candidates.get(name="linear")

    response = owner_client.post(reverse("api_candidate_confirm", args=[candidate.pk]))

    assert response.status_code == 400
    assert "trained on every row" in response.json()["error"]


def test_it_refuses_to_queue_a_confirmation_twice(owner, owner_client):
    candidate = make_run(owner).candidates.get(name="linear")
    owner_client.post(reverse("api_candidate_confirm", args=[candidate.pk]))

    response = owner_client.post(reverse("api_candidate_confirm", args=[candidate.pk]))

    assert response.status_code == 400
    assert "already waiting to be scored" in response.json()["error"]


def test_it_shows_the_reason_a_confirmation_failed_and_offers_it_again(owner, owner_client):
    run = make_run(owner)
    run.candidates.filter(name="forest").update(
        confirm_status=Confirmation.FAILED, confirm_error="The file has been read again."
    )

    page = owner_client.get(compare_url(run)).content.decode()

    assert "The file has been read again." in page
    assert page.count("Confirm on the whole file") == 2


def test_it_queues_the_recommended_model_and_the_runner_up_of_a_sampled_run(owner):
    run = make_run(owner)

    services.run_confirm_best(run_id=run.pk)

    queued = run.candidates.filter(confirm_status=Confirmation.QUEUED)
    assert sorted(queued.values_list("rank", flat=True)) == [1, 2]


def test_it_queues_nothing_for_a_run_on_every_row(owner):
    run = make_run(owner, sample_rows=1000)

    services.run_confirm_best(run_id=run.pk)

    assert not run.candidates.exclude(confirm_status="").exists()


def test_it_polls_the_panel_while_the_confirmation_runs(owner, owner_client):
    candidate = make_run(owner).candidates.get(name="linear")
    CandidateResult.objects.filter(pk=candidate.pk).update(confirm_status=Confirmation.RUNNING)

    panel = owner_client.get(reverse("candidate_confirmation", args=[candidate.pk]))

    assert 'hx-trigger="every 2s"' in panel.content.decode()
