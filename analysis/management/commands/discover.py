"""`manage.py discover PATH --target COLUMN`: a whole discovery run on a file, headless.

It runs the same core as the workers, in this process, and prints the leaderboard;
`--export DIR` writes the code export of the best model (or `--candidate NAME`).
"""

import json
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from analysis.automl.candidates import CANDIDATES
from analysis.automl.discovery import prepare_run, train_candidate
from analysis.automl.errors import UserFacingError
from analysis.automl.metrics import leaderboard_order
from analysis.automl.profile import profile_table


class Command(BaseCommand):
    help = "Train and rank the five candidate models on a table file."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--target", required=True)
        parser.add_argument("--task", choices=["regression", "binary", "multiclass"])
        parser.add_argument("--sample-size", type=int, default=100_000)
        parser.add_argument("--time-budget", type=int, default=120)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--exclude", nargs="*", default=[])
        parser.add_argument("--export", type=Path, help="write the code export zip here")
        parser.add_argument("--candidate", choices=[c.name for c in CANDIDATES])
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if not opts["path"].is_file():
            self._refuse(f"There is no file at {opts['path']}.")
        run_dir = Path(tempfile.mkdtemp(prefix="promise-discover-"))
        try:
            plan = prepare_run(
                opts["path"],
                run_dir,
                profile=profile_table(opts["path"]),
                target=opts["target"],
                task=opts["task"],
                excluded=tuple(opts["exclude"]),
                max_rows=opts["sample_size"],
                seed=opts["seed"],
            )
        except UserFacingError as exc:
            self._refuse(str(exc))
        share = opts["time_budget"] / len(CANDIDATES)
        outcomes = {
            c.name: train_candidate(run_dir, plan, c.name, time_limit=share) for c in CANDIDATES
        }
        order = leaderboard_order({n: o.metrics for n, o in outcomes.items()}, plan.metric)
        board = [{"rank": i, **vars(outcomes[n])} for i, n in enumerate(order, start=1)]
        if opts["json"]:
            self.stdout.write(json.dumps({"plan": plan.to_dict(), "leaderboard": board}, indent=2))
        else:
            self.stdout.write(
                f"{plan.task}, ranked by {plan.metric}; sample {plan.sample.sample_rows} "
                f"of {plan.sample.total_rows} rows"
            )
            for row in board:
                self.stdout.write(
                    f"  {row['rank']}. {row['name']}: {row['metrics'][plan.metric]:.4f}"
                )
        if opts["export"]:
            name = opts["candidate"] or order[0]
            self._export(run_dir, outcomes[name], opts["export"])

    def _export(self, run_dir: Path, outcome, destination: Path):
        from exporters.bundle import build_bundle

        from analysis.automl.export import export_spec

        spec = export_spec(
            run_dir,
            outcome.name,
            params=outcome.params,
            metrics=outcome.metrics,
            title=outcome.name,
        )
        build_bundle(spec, destination)
        self.stderr.write(f"Wrote the export of {outcome.name} to {destination}")

    @staticmethod
    def _refuse(message: str):
        sys.stderr.write(message + "\n")
        sys.exit(2)
