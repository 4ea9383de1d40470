"""Where a dataset's file and a run's working folder live on the worker's disk."""

from pathlib import Path

from django.conf import settings

from .models import Dataset, Run


def dataset_path(dataset: Dataset) -> Path:
    return Path(dataset.file.path)


def run_dir(run: Run) -> Path:
    return Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
