"""Runs the integration tests start from: a candidate trained by the AutoML core into its
run's own folder without a worker, and a long run on the real worker."""

from django.core.files.base import ContentFile

from analysis import services
from analysis.automl.candidates import get_candidate
from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import DatasetProfile
from analysis.models import CandidateResult, Dataset, Run
from analysis.storage import dataset_path, run_dir
from tests.conftest import churn_frame
from tests.worker import wait_for


def trained_candidate(
    owner, content: bytes, *, target: str = "churned", family: str = "linear"
) -> CandidateResult:
    """The family `family` trained by the AutoML core on `content`, a CSV table with a
    `target` column, profiled and stored as a finished run's."""
    dataset = Dataset(owner=owner, name=f"{target}.csv", size_bytes=len(content))
    dataset.file.save(f"{target}.csv", ContentFile(content), save=True)
    services.dataset_profile(dataset_id=dataset.pk)
    dataset.refresh_from_db()
    run = Run.objects.create(
        owner=owner, dataset=dataset, target=target, seed=3, status=Run.Status.SUCCEEDED
    )
    plan = prepare_run(
        dataset_path(dataset),
        run_dir(run),
        profile=DatasetProfile.from_dict(dataset.profile),
        target=target,
        max_rows=None,
        seed=run.seed,
    )
    outcome = train_candidate(run_dir(run), plan, family)
    return CandidateResult.objects.create(
        run=run,
        name=family,
        label=get_candidate(family).label,
        status=CandidateResult.Status.SUCCEEDED,
        params=outcome.params,
        metrics=outcome.metrics,
        cv_scores=outcome.cv_scores,
        charts=outcome.charts,
        fit_seconds=outcome.fit_seconds,
    )


def trained_linear_candidate(owner, content: bytes) -> CandidateResult:
    """The linear family trained on `content`, a table with a "churned" column."""
    return trained_candidate(owner, content)


def ten_minute_run(owner, tmp_path) -> Run:
    """A 20,000-row churn table stored and profiled by the worker, and a run on it whose
    searches would take ten minutes; returned as soon as it is queued."""
    path = tmp_path / "churn.csv"
    churn_frame(rows=20_000).to_csv(path, index=False)
    dataset = services.dataset_create_from_path(owner=owner, path=path)
    wait_for(
        lambda: Dataset.objects.get(pk=dataset.pk).status == "ready", timeout=60, what="profile"
    )
    return services.run_start(
        owner=owner, dataset=Dataset.objects.get(pk=dataset.pk), target="churned", time_budget=600
    )
