"""`manage.py prune_audit [--dry-run]`: remove audit entries older than
PROMISE_AUDIT_RETENTION_DAYS (also on beat's schedule, analysis.tasks.prune_audit)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from analysis.audit import prune_audit


class Command(BaseCommand):
    help = "Remove audit entries older than PROMISE_AUDIT_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be removed; remove nothing"
        )

    def handle(self, *args, dry_run: bool, **options):
        count = prune_audit(timezone.now(), dry_run=dry_run)
        verb = "would be removed" if dry_run else "removed"
        days = settings.PROMISE_AUDIT_RETENTION_DAYS
        self.stdout.write(f"{count:,} audit entries older than {days:,} days {verb}.")
