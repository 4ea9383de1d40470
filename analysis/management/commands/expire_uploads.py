"""`manage.py expire_uploads [--dry-run]`: remove every user's unfinished uploads that
received nothing for PROMISE_UPLOAD_EXPIRY_SECONDS."""

from analysis.ops.command import ChoreCommand
from analysis.ops.housekeeping import expire_uploads


class Command(ChoreCommand):
    help = "Remove unfinished uploads that received nothing for the expiry setting."
    what = "unfinished uploads"

    def chore(self, *, dry_run: bool):
        return expire_uploads(dry_run=dry_run)
