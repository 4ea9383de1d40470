"""The shape every housekeeping command shares: --dry-run, a line per thing, a summary."""

from django.core.management.base import BaseCommand


class ChoreCommand(BaseCommand):
    what = "items"  # the plural the summary counts

    def chore(self, *, dry_run: bool):  # -> housekeeping.Chore
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be done; change nothing"
        )

    def handle(self, *args, dry_run: bool, **options):
        chore = self.chore(dry_run=dry_run)
        for line in chore.lines:
            self.stdout.write(line)
        self.stdout.write(chore.summary(self.what))
