"""`manage.py cleanup [--dry-run]`: remove what crashes and deletions left on disk.

Partial files whose writer is gone, files no row points to (uploads, Parquet copies,
exports, run folders); rows whose file is missing are listed, not deleted. With
--dry-run, nothing is removed: each is listed with why it is a leftover.
"""

from django.core.management.base import BaseCommand

from analysis import leftovers


class Command(BaseCommand):
    help = (
        "Remove partial files left by crashed work and files no dataset, export or run "
        "points to; list datasets and exports whose file is missing."
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
        for line in leftovers.rows_without_files():
            self.stdout.write(f"Row without its file (not removed): {line}")
        done = "would be freed" if dry_run else "freed"
        self.stdout.write(f"{len(found)} leftovers, {total / 1e6:,.1f} MB {done}.")
