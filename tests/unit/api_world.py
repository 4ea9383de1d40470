"""A user's world for the API's tests: the churn table profiled, a finished run prepared
and with a decision tree trained in its folder as a worker would, a scored file, another
user's run on the same dataset, and the owner's API token. Import the fixture `world`."""

import pytest
from django.core.files.base import ContentFile

from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.batch_predictions import BatchPrediction
from analysis.models import CandidateResult, Dataset, Run
from analysis.storage import run_dir
from analysis.tokens import token_create
from tests.conftest import churn_frame


@pytest.fixture
def world(owner, outsider, tmp_path):
    """Ids by kind ("datasets", "runs", "candidates", "prediction-files"), the outsider's
    run ("foreign") and the owner's token headers ("headers")."""
    path = tmp_path / "churn.csv"
    churn_frame(rows=200).to_csv(path, index=False)
    profile = profile_table(path)
    dataset = Dataset(owner=owner, name="churn.csv", status=Dataset.Status.READY)
    dataset.file.save("churn.csv", ContentFile(path.read_bytes()), save=False)
    dataset.profile = profile.to_dict()
    dataset.row_count = 200
    dataset.save()
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="churned", status=Run.Status.SUCCEEDED
    )
    plan = prepare_run(path, run_dir(run), profile=profile, target="churned", max_rows=None, seed=3)
    outcome = train_candidate(run_dir(run), plan, "decision_tree", time_limit=3)
    candidate = CandidateResult.objects.create(
        run=run,
        name="decision_tree",
        label="Decision tree",
        status=CandidateResult.Status.SUCCEEDED,
        model_dir=outcome.model_dir,
        params=outcome.params,
        metrics=outcome.metrics,
        charts=outcome.charts,
        rank=1,
    )
    batch = BatchPrediction.objects.create(owner=owner, candidate=candidate, name="f.csv")
    theirs = Run.objects.create(owner=outsider, dataset=dataset, target="churned")
    _, key = token_create(owner=owner, name="schemathesis")
    ids = {
        "datasets": dataset.pk,
        "runs": run.pk,
        "candidates": candidate.pk,
        "prediction-files": batch.pk,
    }
    return {"ids": ids, "foreign": theirs.pk, "headers": {"Authorization": f"Token {key}"}}
