"""Candidates in the API: one model's detail with its whole-file confirmation, its charts,
predictions, the code export (files and zip) and confirmation on the whole file."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from .. import figures, selectors, services, serving
from ..forms import prediction_value_error
from ..models import CandidateResult
from .errors import refusal
from .parsing import JSONBodyParser, json_object
from .runs import figure_dicts
from .serializers import CandidateSerializer, FigureSerializer


def _owned(request: Request, pk: int) -> CandidateResult:
    return get_object_or_404(
        CandidateResult.objects.select_related("run__dataset"), pk=pk, run__owner=request.user
    )


class CandidateDetailSerializer(CandidateSerializer):
    """A candidate with its run's id and its whole-file confirmation as the pages show it."""

    run = serializers.PrimaryKeyRelatedField(read_only=True)
    confirmation = serializers.SerializerMethodField()

    class Meta(CandidateSerializer.Meta):
        fields = ["run", *CandidateSerializer.Meta.fields, "confirmation"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_confirmation(self, candidate: CandidateResult) -> dict:
        return selectors.candidate_confirmation(candidate.run, candidate)


@extend_schema(tags=["candidates"], responses={200: CandidateDetailSerializer})
@api_view(["GET"])
def candidate_detail(request: Request, pk: int) -> Response:
    """One model: scores, timings, parameters and its whole-file confirmation."""
    return Response(CandidateDetailSerializer(_owned(request, pk)).data)


@extend_schema(tags=["candidates"], responses={200: FigureSerializer(many=True)})
@api_view(["GET"])
def candidate_charts(request: Request, pk: int) -> Response:
    """The model's own charts as plotly.js figures (those its stored data allows)."""
    return Response(figure_dicts(figures.candidate_figures(_owned(request, pk))))


@extend_schema(
    tags=["predictions"],
    request=inline_serializer(
        "PredictRequest",
        {"rows": serializers.ListField(child=serializers.DictField(), help_text="{column: value}")},
    ),
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["POST"])
@parser_classes([JSONBodyParser])
def predict(request: Request, pk: int) -> Response:
    """The model's predictions for rows of {column: value}."""
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    data = json_object(request, ("rows",))
    if isinstance(data, Response):
        return data
    rows = data.get("rows")
    if refused := _prediction_values_refused(rows):
        return refused
    try:
        return Response(serving.predict_rows(candidate, rows))
    except serving.PredictionError as exc:
        return refusal(str(exc))


def _prediction_values_refused(rows) -> Response | None:
    """A 400 for the first value of `rows` no model can take, or None (the shape of
    `rows` is serving's to check)."""
    if not isinstance(rows, list):
        return None
    for number, row in enumerate(rows, start=1):
        for column, value in row.items() if isinstance(row, dict) else ():
            if problem := prediction_value_error(column, value):
                return refusal(f"Row {number}: {problem}")
    return None


@extend_schema(
    tags=["exports"],
    responses={
        200: OpenApiResponse(
            {"type": "object", "additionalProperties": {"type": "string"}},
            description="Each file's text, by its name.",
        )
    },
)
@api_view(["GET"])
def export_files(request: Request, pk: int) -> Response:
    """The rendered text files of a candidate's code export, by name."""
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    try:
        return Response(services.export_files(candidate=candidate))
    except services.ServiceError as exc:
        return refusal(str(exc))


@extend_schema(
    tags=["exports"],
    responses={
        (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip.")
    },
)
@api_view(["GET"])
def export_zip(request: Request, pk: int) -> FileResponse | Response:
    """The code export of a candidate as a zip."""
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    try:
        export = services.export_build(candidate=candidate)
    except services.ServiceError as exc:
        return refusal(str(exc))
    name = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name)


@extend_schema(tags=["candidates"], request=None, responses={202: CandidateSerializer})
@api_view(["POST"])
def candidate_confirm(request: Request, pk: int) -> Response:
    """Score the model on every row of the file its run did not train on (in the background).

    Answers 202 with the candidate; its confirm_status then goes queued → running →
    succeeded (full_metrics, full_rows) or failed (confirm_error).
    """
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run"), pk=pk, run__owner=request.user
    )
    try:
        candidate = services.candidate_confirm(candidate=candidate)
    except services.ServiceError as exc:
        return refusal(str(exc))
    return Response(CandidateSerializer(candidate).data, status=status.HTTP_202_ACCEPTED)
