"""`manage.py cleanup [--dry-run]`: remove orphans both ways.

Partial files whose writer is gone, files no row points to (uploads, Parquet copies,
exports, scored files, run folders, a deleted user's unfinished uploads), and rows whose
files are missing (deleted through the delete services, with what is left of their
files). With --dry-run, nothing is removed: each is listed with why it is a leftover.
"""

from django.core.management.base import BaseCommand

from analysis import leftovers


class Command(BaseCommand):
    help = (
        "Remove partial files left by crashed work, files no row points to, and rows "
        "(datasets, runs, exports, scoring jobs) whose files are missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be removed; remove nothing"
        )

    def handle(self, *args, dry_run: bool, **options):
        found = leftovers.stale_partials() + leftovers.orphan_files()
        total = sum(leftover.bytes for leftover in found)
        verb = "Would remove" if dry_run else "Removing"
        for leftover in found:
            self.stdout.write(f"{verb} {leftover.path} ({leftover.bytes:,} bytes): {leftover.why}")
        if not dry_run:
            total = leftovers.remove(found)
        missing = leftovers.rows_missing_files()
        verb = "Would delete" if dry_run else "Deleting"
        for row in missing:
            self.stdout.write(f"{verb} the row without its files: {row}")
        if not dry_run:
            leftovers.remove_rows(missing)
        done = "would be freed" if dry_run else "freed"
        self.stdout.write(
            f"{len(found)} leftover files, {total / 1e6:,.1f} MB {done}; "
            f"{len(missing)} rows without their files."
        )
