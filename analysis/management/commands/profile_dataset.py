"""`manage.py profile_dataset PATH [--json]`: profile a table file from the command line."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from analysis.automl.errors import UserFacingError
from analysis.automl.profile import profile_table


class Command(BaseCommand):
    help = (
        "Profile a CSV or Parquet file: rows, and each column's kind, missing and distinct counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--json", action="store_true", help="print the whole profile as JSON")

    def handle(self, *args, path: Path, json: bool, **options):
        if not path.is_file():
            self._refuse(f"There is no file at {path}.")
        try:
            profile = profile_table(path)
        except UserFacingError as exc:
            self._refuse(str(exc))
        if json:
            self.stdout.write(_dumps(profile.to_dict()))
            return
        self.stdout.write(f"{profile.rows} rows, {len(profile.columns)} columns")
        for column in profile.columns:
            self.stdout.write(
                f"  {column.name}: {column.kind}, {column.missing} missing, "
                f"{column.distinct} distinct"
            )

    @staticmethod
    def _refuse(message: str):
        sys.stderr.write(message + "\n")
        sys.exit(2)


def _dumps(data) -> str:
    return json.dumps(data, indent=2, default=str)
