"""Files of records scored in the background: upload, progress, the scored CSV."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ..batch_predictions import BatchPrediction, BatchRefused
from ..models import CandidateResult
from ..prediction_files import batch_prediction_create
from .errors import refusal
from .parsing import unknown_fields


class PredictionFileSerializer(serializers.ModelSerializer):
    """A file being scored: its progress in rows, what was left aside, and once done the
    address of the scored CSV (or the sentence, and messages by column, of its failure)."""

    # "error" and "fields" as in the API's refusals (a declared field may be named so).
    fields = serializers.JSONField(source="error_fields", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    result = serializers.SerializerMethodField()

    class Meta:
        model = BatchPrediction
        fields = ["id", "candidate", "name", "status", "rows_total", "rows_done", "percent",
                  "ignored_columns", "unseen_categories", "error", "fields", "created_at",
                  "finished_at", "result"]  # fmt: skip
        read_only_fields = fields

    def get_result(self, batch: BatchPrediction) -> str | None:
        if batch.status != BatchPrediction.Status.SUCCEEDED:
            return None
        return f"/api/prediction-files/{batch.pk}/result/"


def _owned(request: Request, pk: int) -> BatchPrediction:
    return get_object_or_404(BatchPrediction, pk=pk, owner=request.user)


@extend_schema(
    tags=["predictions"],
    request={
        "multipart/form-data": inline_serializer(
            "PredictionFileUpload", {"file": serializers.FileField(help_text="CSV with a header")}
        )
    },
    responses={202: PredictionFileSerializer, 400: OpenApiTypes.OBJECT},
)
@api_view(["POST"])
@parser_classes([MultiPartParser])
def predict_file(request: Request, pk: int) -> Response:
    """Score a CSV file of records in the background (multipart field "file").

    The header is checked at once: a column of the model missing from it is refused by
    name. The worker then checks every record as the prediction endpoint does and writes
    the file's columns followed by "prediction" (and "probability_<class>" for
    classification); follow the answer's id at /api/prediction-files/<id>/.
    """
    candidate = get_object_or_404(
        CandidateResult.objects.select_related("run"), pk=pk, run__owner=request.user
    )
    if refused := unknown_fields({**request.data, **request.FILES}, ("file",)):
        return refused
    try:
        batch = batch_prediction_create(candidate=candidate, upload=request.FILES.get("file"))
    except BatchRefused as exc:
        return refusal(exc.sentence, fields=exc.fields)
    return Response(PredictionFileSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["predictions"], responses={200: PredictionFileSerializer})
@api_view(["GET"])
def prediction_file(request: Request, pk: int) -> Response:
    """A scored file's status and progress."""
    return Response(PredictionFileSerializer(_owned(request, pk)).data)


@extend_schema(
    tags=["predictions"],
    responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The scored CSV."),
        404: OpenApiTypes.OBJECT,
    },
)
@api_view(["GET"])
def prediction_file_result(request: Request, pk: int) -> FileResponse | Response:
    """The scored CSV, once the file's status is succeeded."""
    batch = _owned(request, pk)
    if batch.status != BatchPrediction.Status.SUCCEEDED:
        return refusal(f"The file is not scored yet: it is {batch.status}.", status=409)
    return FileResponse(
        batch.result_file.open("rb"),
        as_attachment=True,
        filename=batch.result_name(),
        content_type="text/csv",
    )
