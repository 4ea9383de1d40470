"""`manage.py expire_datasets [--dry-run]`: delete datasets unused for
PROMISE_DATASET_RETENTION_DAYS, with their runs, models, exports and files (off at 0)."""

from analysis.ops.command import ChoreCommand
from analysis.ops.housekeeping import expire_datasets


class Command(ChoreCommand):
    help = "Delete datasets past the retention setting, with every file they have."
    what = "datasets"

    def chore(self, *, dry_run: bool):
        return expire_datasets(dry_run=dry_run)
