"""Finish now, on a real worker: the searches stop, each model keeps its best trial so far,
and the run is ranked; the API does the same, and refuses a run that is not searching."""

import pytest
from django.urls import reverse

from analysis.models import CandidateResult, Run
from tests.integration.trained import ten_minute_run
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_run(celery_worker, owner, tmp_path) -> Run:
    """A run whose searches would take ten minutes, with a trial already scored."""
    run = ten_minute_run(owner, tmp_path)
    wait_for(
        lambda: CandidateResult.objects.filter(run=run, trials_done__gte=1).exists(),
        timeout=120,
        what="a first scored trial",
    )
    return run


def _finished(run: Run) -> Run:
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status not in Run.ACTIVE, timeout=120, what="the run"
    )
    return Run.objects.get(pk=run.pk)


def test_it_ranks_what_the_searches_found_when_the_user_finishes_now(owner_client, long_run):
    response = owner_client.post(reverse("run_finish", args=[long_run.pk]))
    assert response.status_code == 302

    run = _finished(long_run)
    assert run.status == "succeeded", run.error
    candidates = list(run.candidates.all())
    trained = [c for c in candidates if c.status == "succeeded"]
    assert trained and run.recommended in {c.name for c in trained}
    for candidate in candidates:
        # Each kept its best trial so far (with its CV folds), or says it had none.
        if candidate.status == "succeeded":
            assert candidate.cv_scores and candidate.model_dir and candidate.rank
        else:
            assert candidate.status == "failed" and "finished before" in candidate.error
    assert any("finished early" in sentence for sentence in run.insights)
    assert owner_client.post(reverse("api_run_finish", args=[run.pk])).status_code == 409, (
        "a run that is not searching has nothing to finish"
    )


def test_the_api_finishes_a_run_too(owner_client, long_run, outsider_client):
    assert outsider_client.post(reverse("api_run_finish", args=[long_run.pk])).status_code == 404

    response = owner_client.post(reverse("api_run_finish", args=[long_run.pk]))

    assert response.status_code == 202
    assert _finished(long_run).status == "succeeded"
