"""`manage.py reap_runs [--dry-run]`: one pass of the reconciler (analysis/reconcile.py),
which Celery beat runs every PROMISE_RECONCILE_SECONDS: work whose task was lost (its
worker died, the broker restarted) is sent again, or failed after too many sends. A row
is continued once it was found so on two passes; --dry-run only lists what is found."""

from analysis.ops.command import ChoreCommand
from analysis.ops.housekeeping import reap_runs


class Command(ChoreCommand):
    help = "Continue or fail the datasets and runs whose task was lost (the reconciler)."
    what = "lost tasks continued or failed"

    def chore(self, *, dry_run: bool):
        return reap_runs(dry_run=dry_run)
