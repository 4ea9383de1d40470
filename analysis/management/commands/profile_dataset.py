"""`manage.py profile_dataset PATH [--json] [overrides]`: profile a table file from the shell.

A file that cannot be read exits with status 2 and one sentence on stderr; the overrides
(--delimiter, --encoding, --header-row, --sheet, --decimal) are how to retry.
"""

import json
import logging
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from analysis.automl.errors import UserFacingError
from analysis.automl.ingest import IngestOptions
from analysis.automl.profile import profile_table

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Profile a table file (CSV/TSV, gzip/bz2/zip, Parquet, .xlsx, JSON Lines): rows, each "
        "column's kind and statistics, and quality findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--json", action="store_true", help="print the whole profile as JSON")
        parser.add_argument(
            "--delimiter", help="field delimiter, e.g. ';' or tab (default: sniffed)"
        )
        parser.add_argument("--encoding", help="text encoding, e.g. cp1252 (default: detected)")
        parser.add_argument(
            "--header-row",
            type=int,
            default=1,
            help="1-based line of the header; 0 when the file has none (default: 1)",
        )
        parser.add_argument("--sheet", help="Excel sheet name or 1-based number (default: first)")
        parser.add_argument(
            "--decimal", choices=[".", ","], help="decimal mark (default: detected)"
        )

    def handle(self, *args, path: Path, json: bool, **options):
        if not path.is_file():
            self._refuse(f"There is no file at {path}: check the path.")
        ingest_options = IngestOptions(
            delimiter=options["delimiter"],
            encoding=options["encoding"],
            header_row=options["header_row"],
            sheet=options["sheet"],
            decimal=options["decimal"],
        )
        try:
            profile = profile_table(path, options=ingest_options)
        except UserFacingError as exc:
            self._refuse(str(exc))
        except Exception:  # a bug of ours: log it, never show a traceback to the user
            log.exception("Profiling %s failed", path)
            self._refuse(
                "The file could not be read because of an error in PROMISE: try the "
                "--delimiter, --encoding or --header-row overrides, or report the file."
            )
        if json:
            self.stdout.write(_dumps(profile.to_dict()))
            return
        self.stdout.write(f"{profile.rows} rows, {len(profile.columns)} columns")
        for column in profile.columns:
            self.stdout.write(
                f"  {column.name}: {column.kind}, {column.missing} missing, "
                f"{column.distinct} distinct"
            )
        for finding in profile.findings:
            self.stdout.write(f"{finding.severity}: {finding.message} {finding.action}")

    @staticmethod
    def _refuse(message: str):
        sys.stderr.write(message + "\n")
        sys.exit(2)


def _dumps(data) -> str:
    return json.dumps(data, indent=2, default=str)
