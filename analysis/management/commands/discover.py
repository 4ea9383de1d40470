"""`manage.py discover PATH --target COL`: the whole discovery pipeline on a file, headless.

It runs the same core as the workers, in this process, and needs neither Redis nor a
worker: the candidates one after the other, then the second round (the time the first
round left goes to the searches that can still improve, automl/second_round.py). It
prints the leaderboard; `--json OUT` writes it as JSON and `--export ZIP` writes the
code export of the best model, or of `--candidate NAME`. A bad file or a wrong target
exits with status 2 and one sentence on stderr.
"""

import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from analysis.automl.budget import candidate_time_limit
from analysis.automl.candidates import CANDIDATES
from analysis.automl.discovery import load_search, train_candidate
from analysis.automl.errors import UserFacingError
from analysis.automl.extension import adopt_extension, extend_candidate
from analysis.automl.metrics import higher_is_better
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.automl.ranking import Contender, rank_candidates
from analysis.automl.sampling import STRATEGIES, TIME_BASED
from analysis.automl.second_round import ROUND_END, FirstRound, plan_second_round


def _sample_size(value: str) -> int | None:
    if value == "full":
        return None
    rows = int(value)
    if rows < 1:
        raise ValueError(value)
    return rows


class Command(BaseCommand):
    help = (
        "Train and rank the five candidate models on a table file (CSV or other delimited "
        "text, JSON Lines, Excel .xlsx or Parquet)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--target", required=True, help="the column to predict")
        parser.add_argument(
            "--task", default="auto", choices=["auto", "regression", "classification"]
        )
        parser.add_argument("--budget", type=int, default=120, help="seconds for the whole run")
        parser.add_argument(
            "--sample-size", type=_sample_size, default=100_000, help="rows, or 'full'"
        )
        parser.add_argument("--strategy", default="random", choices=STRATEGIES)
        parser.add_argument("--time-column", help="for --strategy time_based")
        parser.add_argument("--metric", help="rank by this metric instead of R² or accuracy")
        parser.add_argument(
            "--candidate", choices=[c.name for c in CANDIDATES], help="export this model"
        )
        parser.add_argument("--exclude", nargs="*", default=[], help="columns to leave out")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", type=Path, metavar="OUT", help="write the results here")
        parser.add_argument("--export", type=Path, metavar="ZIP", help="export the best model")

    def handle(self, *args, **opts) -> None:
        path: Path = opts["path"]
        if not path.is_file():
            _refuse(f"There is no file at {path}.")
        run_dir = Path(tempfile.mkdtemp(prefix="promise-discover-"))
        try:
            self._discover(path, run_dir, opts)
        except UserFacingError as exc:
            _refuse(str(exc))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def _discover(self, path: Path, run_dir: Path, opts: dict) -> None:
        plan = prepare_run(
            path,
            run_dir,
            profile=profile_table(path),
            target=opts["target"],
            task=opts["task"],
            excluded=tuple(opts["exclude"]),
            max_rows=opts["sample_size"],
            seed=opts["seed"],
            strategy=opts["strategy"],
            time_column=opts["time_column"],
            metric=opts["metric"],
        )
        started = time.monotonic()
        # One process trains the candidates one after the other.
        outcomes = {
            c.name: train_candidate(
                run_dir,
                plan,
                c.name,
                time_limit=candidate_time_limit(c.name, opts["budget"], workers=1),
            )
            for c in CANDIDATES
        }
        second_round = _second_round(run_dir, plan, outcomes, opts["budget"], started)
        standings = rank_candidates(
            [
                Contender(name=n, cv_scores=o.cv_scores, search_rows=o.charts.get("search_rows"))
                for n, o in outcomes.items()
            ],
            plan.metric,
            simplicity=[c.name for c in CANDIDATES],
            time_ordered=plan.sample.strategy == TIME_BASED,
        )
        order = [s.name for s in standings]
        result = {
            "task": plan.task,
            "metric": plan.metric,
            "ranked_by": "cv_mean",
            "rows_total": plan.sample.total_rows,
            "rows_used": plan.sample.sample_rows,
            "second_round": second_round.to_dict(),
            "leaderboard": [
                {
                    "model": s.name,
                    "score": outcomes[s.name].metrics[plan.metric],
                    "metrics": outcomes[s.name].metrics,
                    "cv_mean": s.cv_mean,
                    "cv_std": s.cv_std,
                    "cv_scores": outcomes[s.name].cv_scores,
                    "holdout_ci": outcomes[s.name].holdout_ci,
                    "tied_with_first": s.tied_with_first,
                    "p_value_vs_first": s.p_value,
                    "fit_seconds": outcomes[s.name].fit_seconds,
                    "params": outcomes[s.name].params,
                }
                for s in standings
            ],
        }
        self.stdout.write(
            f"{plan.task}, ranked by {plan.metric}, on {plan.sample.sample_rows:,} "
            f"of {plan.sample.total_rows:,} rows"
        )
        for rank, row in enumerate(result["leaderboard"], start=1):
            cv = "–" if row["cv_mean"] is None else f"{row['cv_mean']:.4f} ± {row['cv_std']:.4f}"
            tied = " (tied with #1)" if row["tied_with_first"] else ""
            self.stdout.write(
                f"  {rank}. {row['model']}: CV {cv}, holdout {row['score']:.4f}{tied}"
            )
        if second_round.sentence:
            self.stdout.write(second_round.sentence)
        if opts["json"]:
            opts["json"].write_text(json.dumps(result, indent=2))
        if opts["export"]:
            outcome = outcomes[opts["candidate"] or order[0]]
            self._export(path, run_dir, outcome, opts["export"])

    def _export(self, source: Path, run_dir: Path, outcome, destination: Path) -> None:
        from analysis.automl.export import export_spec, source_file
        from exporters import build_bundle

        spec = export_spec(
            run_dir,
            outcome.name,
            params=outcome.params,
            metrics=outcome.metrics,
            title=f"{outcome.name} (PROMISE discover)",
            fit_seconds=outcome.fit_seconds,
            source=source_file(source),
        )
        build_bundle(spec, destination)
        self.stdout.write(f"Wrote the export of {outcome.name} to {destination}")


def _second_round(run_dir: Path, plan, outcomes: dict, budget: float, started: float):
    """The platform's second round in this one process: plan what the first round left
    until ROUND_END of `budget`, continue those searches one after the other, and put a
    continued candidate's new model in `outcomes` when its CV score improved."""
    first = [
        FirstRound.of(
            name,
            name,
            load_search(run_dir / "candidates" / name),
            refit_seconds=outcome.fit_seconds,
            maximize=higher_is_better(plan.metric),
        )
        for name, outcome in outcomes.items()
    ]
    ends_at = started + budget * ROUND_END
    planned = plan_second_round(
        first, seconds_left=max(0.0, ends_at - time.monotonic()), budget=budget, workers=1
    )
    for name, seconds in planned.seconds.items():
        time_limit = min(seconds, ends_at - time.monotonic())
        if time_limit < 1:
            break
        extension = extend_candidate(run_dir, plan, name, time_limit=time_limit)
        if extension.outcome is not None:
            adopt_extension(run_dir, name)
            model_dir = str(run_dir / "candidates" / name)
            outcomes[name] = replace(extension.outcome, model_dir=model_dir)
    return planned


def _refuse(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(2)
