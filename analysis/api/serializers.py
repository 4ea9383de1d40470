"""What the API answers about datasets, runs and candidates, and the settings a run takes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import selectors
from ..automl.metrics import RANKING_METRICS
from ..automl.sampling import STRATEGIES
from ..forms import MAX_SAMPLE_ROWS, SAMPLE_ROWS_MESSAGE
from ..models import CandidateResult, Dataset, Run


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "name", "status", "error", "size_bytes", "row_count", "column_count",
                  "created_at"]  # fmt: skip


class CandidateSerializer(serializers.ModelSerializer):
    class Meta:
        model = CandidateResult
        fields = ["id", "name", "label", "status", "error", "rank", "cv_mean", "cv_std",
                  "cv_scores", "holdout_ci", "tied_with_first", "params", "metrics",
                  "trials_done", "fit_seconds", "predict_ms_per_1000", "model_bytes",
                  "confirm_status", "confirm_error", "full_metrics", "full_rows",
                  "second_round"]  # fmt: skip


class RunSummarySerializer(serializers.ModelSerializer):
    """A run in a list: its settings and state, without its candidates."""

    class Meta:
        model = Run
        fields = ["id", "dataset", "target", "task", "status", "error", "metric", "time_budget",
                  "sample_size", "sample_strategy", "time_column", "excluded_columns", "seed",
                  "sample_rows", "total_rows", "recommended", "created_at", "started_at",
                  "finished_at"]  # fmt: skip


class ProgressSerializer(serializers.Serializer):
    """What the live run page shows (selectors.run_progress)."""

    stage = serializers.CharField()
    trials = serializers.IntegerField(help_text="Trials done by every candidate together.")
    best = serializers.FloatField(allow_null=True, help_text="Best CV score so far.")
    seconds_left = serializers.IntegerField(allow_null=True)
    done = serializers.IntegerField(help_text="Candidates finished (succeeded or failed).")
    total = serializers.IntegerField()


class RunSerializer(RunSummarySerializer):
    """A run with its insights, second round, live progress and ranked candidates."""

    candidates = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta(RunSummarySerializer.Meta):
        fields = [*RunSummarySerializer.Meta.fields, "insights", "second_round", "progress",
                  "candidates"]  # fmt: skip

    def _leaderboard(self, run: Run) -> list[CandidateResult]:
        # Both fields read it: one query per run and answer.
        boards = self.__dict__.setdefault("_boards", {})
        if run.pk not in boards:
            boards[run.pk] = selectors.leaderboard(run)
        return boards[run.pk]

    @extend_schema_field(CandidateSerializer(many=True))
    def get_candidates(self, run: Run) -> list[dict]:
        return CandidateSerializer(self._leaderboard(run), many=True).data

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run: Run) -> dict:
        return ProgressSerializer(selectors.run_progress(run, self._leaderboard(run))).data


class FigureSerializer(serializers.Serializer):
    """A chart of the pages (analysis.figures.Figure)."""

    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    spec = serializers.DictField(help_text="A plotly.js figure: its data and layout.")


class ComparisonRowSerializer(serializers.Serializer):
    """One row of a side-by-side table: what it is, and one value per side."""

    label = serializers.CharField()
    values = serializers.ListField(child=serializers.JSONField(allow_null=True))


class ExampleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    target = serializers.CharField()
    what = serializers.CharField()


METRICS = list(dict.fromkeys(m for metrics in RANKING_METRICS.values() for m in metrics))


class RunStartSerializer(serializers.Serializer):
    target = serializers.CharField()
    task = serializers.ChoiceField(["", "regression", "binary", "multiclass"], default="")
    sample_size = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=20,
        max_value=MAX_SAMPLE_ROWS,
        error_messages={"max_value": SAMPLE_ROWS_MESSAGE},
    )
    time_budget = serializers.IntegerField(required=False, min_value=10, max_value=86_400)
    excluded_columns = serializers.ListField(child=serializers.CharField(), required=False)
    sample_strategy = serializers.ChoiceField(STRATEGIES, default="random")
    time_column = serializers.CharField(required=False, default="", allow_blank=True)
    metric = serializers.ChoiceField(
        ["", *METRICS],
        default="",
        help_text="Rank by this metric; blank: R² for regression, accuracy for classification.",
        error_messages={
            "invalid_choice": '"{input}" is not a metric PROMISE ranks by: choose one of '
            + ", ".join(METRICS)
            + ", or leave it blank."
        },
    )
