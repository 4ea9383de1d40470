"""A candidate trained by the AutoML core into its run's own folder, without a worker."""

from django.core.files.base import ContentFile

from analysis import services
from analysis.automl.discovery import prepare_run, train_candidate
from analysis.automl.profile import DatasetProfile
from analysis.models import CandidateResult, Dataset, Run
from analysis.storage import dataset_path, run_dir


def trained_linear_candidate(owner, content: bytes) -> CandidateResult:
    """The linear family trained on `content`, a table with a "churned" column, stored as
    a finished run's."""
    dataset = Dataset(owner=owner, name="churn.csv", size_bytes=len(content))
    dataset.file.save("churn.csv", ContentFile(content), save=True)
    services.dataset_profile(dataset_id=dataset.pk)
    dataset.refresh_from_db()
    run = Run.objects.create(
        owner=owner, dataset=dataset, target="churned", seed=3, status=Run.Status.SUCCEEDED
    )
    plan = prepare_run(
        dataset_path(dataset),
        run_dir(run),
        profile=DatasetProfile.from_dict(dataset.profile),
        target="churned",
        max_rows=None,
        seed=run.seed,
    )
    outcome = train_candidate(run_dir(run), plan, "linear")
    return CandidateResult.objects.create(
        run=run,
        name="linear",
        label="Linear model",
        status=CandidateResult.Status.SUCCEEDED,
        params=outcome.params,
        metrics=outcome.metrics,
        cv_scores=outcome.cv_scores,
        charts=outcome.charts,
        fit_seconds=outcome.fit_seconds,
    )
