"""Candidates in the API: one model's detail with its whole-file confirmation, its charts,
predictions, the code export (files and zip) and confirmation on the whole file."""

from django.http import FileResponse, Http404
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

from .. import explanations, figures, selectors, services, serving
from ..models import CandidateResult
from ..prediction_input import InputRefused
from .errors import refusal, refusal_body
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
        {
            "rows": serializers.ListField(
                child=serializers.DictField(),
                required=False,
                help_text="Records of {column: value}; null for an unknown value.",
            ),
            "row": serializers.DictField(
                required=False, help_text="One record: the same as rows with one item."
            ),
            "explain": serializers.BooleanField(
                required=False,
                help_text="true: also each column's contribution to each record's output "
                f"(at most {explanations.MAX_EXPLAINED_ROWS} records).",
            ),
        },
    ),
    responses={
        200: inline_serializer(
            "PredictAnswer",
            {
                "model": serializers.CharField(),
                "predictions": serializers.ListField(child=serializers.JSONField()),
                "probabilities": serializers.ListField(
                    child=serializers.DictField(child=serializers.FloatField()),
                    required=False,
                    help_text="Classification: each class's probability, per record.",
                ),
                "ignored_columns": serializers.ListField(
                    child=serializers.CharField(), required=False
                ),
                "unseen_categories": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()), required=False
                ),
                "explanations": serializers.ListField(
                    child=serializers.DictField(),
                    required=False,
                    help_text='With "explain": per record, "output" (prediction, log-odds '
                    'or probability of the predicted "class"), "base_value", "value" and '
                    '"contributions" {column: number}; base_value plus the contributions '
                    "is value.",
                ),
                "explanations_unavailable": serializers.CharField(
                    required=False, help_text="Why the model's predictions are not explained."
                ),
            },
        ),
        400: OpenApiTypes.OBJECT,
    },
)
@api_view(["POST"])
@parser_classes([JSONBodyParser])
def predict(request: Request, pk: int) -> Response:
    """The model's predictions for one record ("row") or a list of them ("rows").

    Each record is checked against the model's columns: a missing column or a value of
    the wrong type is refused with a message under its name in "fields" (send null for
    an unknown value); a column the model does not use is ignored and listed in
    "ignored_columns"; a category the model never saw is predicted as the model treats
    rare values and listed in "unseen_categories". Classification answers the labels
    and each class's probability. With "explain": true, "explanations" gives each
    column's contribution (SHAP value) to each record's output: in the target's units for
    regression; for classification, of the predicted class's log-odds (XGBoost, linear)
    or probability (decision tree, random forest). The LSTM's are not given
    ("explanations_unavailable" says why).
    """
    candidate = serving.owned_candidate(pk, request.user)
    if candidate is None:
        raise Http404
    data = json_object(request, ("rows", "row", "explain"))
    if isinstance(data, Response):
        return data
    if ("row" in data) == ("rows" in data):
        return refusal('Send either "row" (one record) or "rows" (a list of records).')
    rows = [data["row"]] if "row" in data else data["rows"]
    explain = data.get("explain", False)
    if not isinstance(explain, bool):
        return refusal('Send "explain" as true or false (JSON booleans, without quotes).')
    if explain and isinstance(rows, list) and len(rows) > explanations.MAX_EXPLAINED_ROWS:
        return refusal(
            f"Explanations are given for at most {explanations.MAX_EXPLAINED_ROWS} records "
            f"per request; this one sent {len(rows)}."
        )
    body, code = prediction_answer(candidate, rows, explain=explain)
    return Response(body, status=code)


def prediction_answer(candidate: CandidateResult, rows, *, explain: bool = False) -> tuple:
    """The body and status `predict` answers for `rows` sent to `candidate` (found, the
    caller's): the predictions, or a 400 naming what is wrong with the rows."""
    try:
        answer = serving.predict_checked(candidate, rows)
        if explain:
            answer.update(_explained(candidate, rows))
        return answer, 200
    except InputRefused as exc:
        return refusal_body(exc.sentence, fields=exc.fields), 400
    except serving.PredictionError as exc:
        return refusal_body(str(exc)), 400


def _explained(candidate: CandidateResult, rows: list) -> dict:
    try:
        return {"explanations": explanations.explain_rows(candidate, rows)}
    except explanations.NotExplained as exc:
        return {"explanations_unavailable": str(exc)}


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
