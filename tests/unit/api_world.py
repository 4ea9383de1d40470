"""A user's world for the API's tests: the churn table profiled, a finished run with a
linear model trained in its folder as a worker would (tests/integration/trained.py), a
scored file, another user's run on the same dataset, and the owner's API token. Import
the fixture `world`."""

import pytest

from analysis.batch_predictions import BatchPrediction
from analysis.models import Run
from analysis.storage import run_dir
from analysis.tokens import token_create
from tests.conftest import churn_frame
from tests.integration.trained import trained_linear_candidate


@pytest.fixture
def world(owner, outsider):
    """Ids by kind ("datasets", "runs", "candidates", "prediction-files"), the outsider's
    run ("foreign") and the owner's token headers ("headers")."""
    candidate = trained_linear_candidate(owner, churn_frame(rows=200).to_csv(index=False).encode())
    run = candidate.run
    # Where the model files went, for serving (the helper stores only the scores).
    candidate.model_dir = str(next(run_dir(run).rglob("model.json")).parent)
    candidate.rank = 1
    candidate.save(update_fields=["model_dir", "rank"])
    batch = BatchPrediction.objects.create(owner=owner, candidate=candidate, name="f.csv")
    theirs = Run.objects.create(owner=outsider, dataset=run.dataset, target="churned")
    _, key = token_create(owner=owner, name="schemathesis")
    ids = {
        "datasets": run.dataset_id,
        "runs": run.pk,
        "candidates": candidate.pk,
        "prediction-files": batch.pk,
    }
    return {"ids": ids, "foreign": theirs.pk, "headers": {"Authorization": f"Token {key}"}}
