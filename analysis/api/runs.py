"""Runs in the API: start one with every setting of the form, list them (?status=,
?dataset=), follow one live, finish, cancel or retry it, and read its leaderboard,
insights, charts and comparisons."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from .. import figures, selectors, services
from ..models import CandidateResult, Run
from .errors import invalid, refusal
from .filters import DATASET_PARAMETER, by_dataset, by_status, status_parameter
from .parsing import JSONBodyParser, json_object
from .serializers import (
    CandidateSerializer,
    ComparisonRowSerializer,
    FigureSerializer,
    RunSerializer,
    RunStartSerializer,
    RunSummarySerializer,
)


def _owned(request: Request, pk: int) -> Run:
    return get_object_or_404(selectors.runs_of(request.user), pk=pk)


def figure_dicts(found: list[figures.Figure]) -> list[dict]:
    return [
        {"id": f.id, "title": f.title, "description": f.description, "spec": f.spec} for f in found
    ]


def _rows(rows: list[tuple[str, list]]) -> list[dict]:
    return [{"label": label, "values": values} for label, values in rows]


@extend_schema(tags=["runs"], parameters=[status_parameter(Run.Status), DATASET_PARAMETER])
class RunList(generics.ListAPIView):
    """Your runs, newest first, a page at a time; ?status= and ?dataset=<id> filter."""

    serializer_class = RunSummarySerializer

    def get_queryset(self):
        runs = by_status(selectors.runs_of(self.request.user), self.request, Run.Status)
        return by_dataset(runs, self.request)


@extend_schema(tags=["runs"], request=RunStartSerializer, responses={201: RunSerializer})
@api_view(["POST"])
@parser_classes([JSONBodyParser])
def run_start(request: Request, pk: int) -> Response:
    """Start a discovery run on a ready dataset, with any setting of the page's form."""
    dataset = get_object_or_404(selectors.datasets_of(request.user), pk=pk)
    data = json_object(request, RunStartSerializer().fields)
    if isinstance(data, Response):
        return data
    form = RunStartSerializer(data=data)
    if not form.is_valid():
        return invalid(form.errors, lead="Invalid run settings: ")
    try:
        run = services.run_start(owner=request.user, dataset=dataset, **form.validated_data)
    except services.ServiceError as exc:
        return refusal(str(exc), status=getattr(exc, "status", 400))
    return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["runs"], methods=["GET"], responses={200: RunSerializer})
@extend_schema(tags=["runs"], methods=["DELETE"], responses={204: None})
@api_view(["GET", "DELETE"])
def run_detail(request: Request, pk: int) -> Response:
    """GET: the run's settings, state, live progress, insights and ranked candidates; poll
    it while the run is active. DELETE: the run with its models and exports (a run still
    going is cancelled first)."""
    run = _owned(request, pk)
    if request.method == "DELETE":
        services.run_delete(run=run)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(RunSerializer(run).data)


def _control(run: Run, done: bool, refused: str) -> Response:
    if not done:
        return refusal(refused, status=409)
    run.refresh_from_db()
    return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["runs"], request=None, responses={202: RunSerializer})
@api_view(["POST"])
def run_finish(request: Request, pk: int) -> Response:
    """Finish now: stop the searches and rank what they have found (202 with the run)."""
    run = _owned(request, pk)
    return _control(
        run,
        services.run_finish(run=run),
        "The run is not searching any more, so there is nothing to finish.",
    )


@extend_schema(tags=["runs"], request=None, responses={202: RunSerializer})
@api_view(["POST"])
def run_cancel(request: Request, pk: int) -> Response:
    """Stop the run now: no candidate starts after this, and running work is killed (202)."""
    run = _owned(request, pk)
    return _control(
        run, services.run_cancel(run=run), "The run is over already, so there is nothing to cancel."
    )


@extend_schema(tags=["runs"], request=None, responses={201: RunSerializer})
@api_view(["POST"])
def run_retry(request: Request, pk: int) -> Response:
    """Start a new run with the same settings as a failed or cancelled one."""
    try:
        new_run = services.run_retry(run=_owned(request, pk))
    except services.ServiceError as exc:
        return refusal(str(exc), status=getattr(exc, "status", 409))
    return Response(RunSerializer(new_run).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["runs"], responses={200: CandidateSerializer(many=True)})
@api_view(["GET"])
def run_leaderboard(request: Request, pk: int) -> Response:
    """The run's candidates, best first (failed ones last)."""
    return Response(CandidateSerializer(selectors.leaderboard(_owned(request, pk)), many=True).data)


@extend_schema(
    tags=["runs"],
    responses={
        200: inline_serializer(
            "RunInsights",
            {
                "recommended": serializers.CharField(help_text="The recommended family."),
                "insights": serializers.ListField(child=serializers.JSONField()),
                "second_round": serializers.JSONField(allow_null=True),
            },
        )
    },
)
@api_view(["GET"])
def run_insights(request: Request, pk: int) -> Response:
    """What the run found out and recommends, and what its second round did."""
    run = _owned(request, pk)
    return Response(
        {"recommended": run.recommended, "insights": run.insights, "second_round": run.second_round}
    )


@extend_schema(
    tags=["runs"],
    responses={
        200: inline_serializer(
            "RunCharts",
            {
                "run": FigureSerializer(many=True),
                "candidates": serializers.DictField(
                    child=FigureSerializer(many=True), help_text="By candidate id."
                ),
            },
        )
    },
)
@api_view(["GET"])
def run_charts(request: Request, pk: int) -> Response:
    """The run page's charts as plotly.js figures: those comparing the models, and each
    succeeded model's own (none before the run has succeeded)."""
    run = _owned(request, pk)
    candidates = selectors.leaderboard(run)
    if run.status != Run.Status.SUCCEEDED:
        return Response({"run": [], "candidates": {}})
    return Response(
        {
            "run": figure_dicts(figures.run_figures(run, candidates)),
            "candidates": {
                str(c.pk): figure_dicts(figures.candidate_figures(c))
                for c in candidates
                if c.status == CandidateResult.Status.SUCCEEDED
            },
        }
    )


@extend_schema(
    tags=["runs"],
    parameters=[
        OpenApiParameter("first", int, required=True, description="A candidate's id."),
        OpenApiParameter("second", int, required=True, description="Another one's id."),
    ],
    responses={200: ComparisonRowSerializer(many=True)},
)
@api_view(["GET"])
def run_compare(request: Request, pk: int) -> Response:
    """Two candidates of the run side by side: every metric, timing and parameter."""
    run = _owned(request, pk)
    by_id = {str(c.pk): c for c in selectors.leaderboard(run)}
    chosen = [request.query_params.get(name, "") for name in ("first", "second")]
    missing = {
        name: ["Not a candidate of this run."]
        for name, value in zip(("first", "second"), chosen, strict=True)
        if value not in by_id
    }
    if missing:
        return refusal(
            "Choose two candidates of this run by id: ?first=<id>&second=<id>.", fields=missing
        )
    return Response(_rows(selectors.comparison_rows(run, [by_id[c] for c in chosen])))


@extend_schema(
    tags=["runs"],
    parameters=[OpenApiParameter("other", int, required=True, description="A run's id.")],
    responses={200: ComparisonRowSerializer(many=True)},
)
@api_view(["GET"])
def run_compare_runs(request: Request, pk: int) -> Response:
    """The run and another of yours on the same dataset: their settings and best models."""
    run = _owned(request, pk)
    other_pk = request.query_params.get("other", "")
    if not (other_pk.isascii() and other_pk.isdecimal() and len(other_pk) <= 18):
        return refusal(
            "Choose the run to compare with by its number: ?other=<run id>.",
            fields={"other": ["Give a run's id."]},
        )
    other = get_object_or_404(
        selectors.runs_of(request.user).filter(dataset_id=run.dataset_id), pk=int(other_pk)
    )
    return Response(_rows(selectors.run_comparison_rows(run, other)))
