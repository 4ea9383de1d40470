"""The JSON API: the same use cases as the pages, for scripts. Session or HTTP basic auth."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services, serving, uploads
from .automl.metrics import RANKING_METRICS
from .automl.sampling import STRATEGIES
from .forms import MAX_SAMPLE_ROWS, SAMPLE_ROWS_MESSAGE, prediction_value_error
from .models import CandidateResult, Dataset, Run

# No endpoint takes more than three levels ({"rows": [{column: value}]}); a little room.
MAX_BODY_DEPTH = 20


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, refusing with a 400 the bodies it would fail on or pass on broken.

    Python's json module raises RecursionError past about a thousand levels of nesting
    (a 500), and it reads a lone "\\ud800" escape into a string that cannot be written
    back as UTF-8 (a 500 when an answer quotes it, or when the database stores it).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        except ParseError as exc:
            raise NotJSON(exc.detail) from exc
        _check_body(data)
        return data


class NotJSON(ParseError):
    """The body is not JSON at all (as opposed to JSON the API refuses)."""


def _too_deep() -> str:
    return f"The JSON body nests arrays or objects too deep: at most {MAX_BODY_DEPTH} levels."


def _check_body(data) -> None:
    """Raise ParseError for nesting deeper than MAX_BODY_DEPTH or a lone surrogate.

    Walked with a stack, not recursion, so any depth json gave back is measured safely.
    """
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode()
                except UnicodeEncodeError:
                    raise ParseError(
                        "The JSON body holds a \\u escape of half a character (a lone "
                        "surrogate): send text as UTF-8."
                    ) from None
            continue
        if isinstance(value, dict):
            children = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_BODY_DEPTH:
            raise ParseError(_too_deep())
        pending.extend((child, depth + 1) for child in children)


def json_object(request: Request, known, *, not_json: str = "") -> dict | Response:
    """The request's JSON object, or a 400 with a sentence: the body is not JSON (then
    `not_json` when given), nests too deep, is not an object, or has fields the endpoint
    does not take."""
    try:
        data = request.data
    except NotJSON as exc:
        return Response({"error": not_json or str(exc.detail)}, status=400)
    except ParseError as exc:
        return Response({"error": str(exc.detail)}, status=400)
    return unknown_fields(data, known) or data


def _first_error(errors) -> str:
    """The first message of a serializer's nested errors, with the field it is about."""
    path = []
    while isinstance(errors, dict | list) and errors:
        if isinstance(errors, dict):
            key = next(iter(errors))
            if key != "non_field_errors":
                path.append(str(key))
            errors = errors[key]
        else:
            errors = errors[0]
    return f"{' › '.join(path)}: {errors}" if path else str(errors)


def unknown_fields(data, known) -> Response | None:
    """A 400 naming every field of a JSON object the endpoint does not take, or None.

    A misspelt or unsupported setting must never be dropped silently: the run would go
    on with the default and the user would not know.
    """
    if not isinstance(data, dict):
        return Response({"error": "Send a JSON object."}, status=400)
    unknown = sorted(set(data) - set(known))
    if not unknown:
        return None
    return Response(
        {
            "error": f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"This endpoint takes {', '.join(sorted(known))}.",
            "fields": {name: ["This field is not known."] for name in unknown},
        },
        status=400,
    )


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


class RunSerializer(serializers.ModelSerializer):
    candidates = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = ["id", "dataset", "target", "task", "status", "error", "metric", "time_budget",
                  "sample_size", "sample_strategy", "time_column", "excluded_columns", "seed",
                  "sample_rows", "total_rows", "recommended", "insights", "second_round",
                  "candidates", "created_at", "started_at", "finished_at"]  # fmt: skip

    def get_candidates(self, run: Run) -> list[dict]:
        return CandidateSerializer(selectors.leaderboard(run), many=True).data


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


@api_view(["GET", "POST"])
@parser_classes([MultiPartParser])
def datasets(request: Request) -> Response:
    if request.method == "GET":
        return Response(DatasetSerializer(selectors.datasets_of(request.user), many=True).data)
    if refused := unknown_fields({**request.data, **request.FILES}, ("file",)):
        return refused
    upload = request.FILES.get("file")
    if upload is None:
        return Response({"error": 'Send the table as a file field named "file".'}, status=400)
    try:
        dataset = services.dataset_upload(owner=request.user, uploaded_file=upload)
    except services.ServiceError as exc:
        return Response({"error": str(exc)}, status=400)
    return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


# Chunked, resumable uploads, used by the browser (static/js/upload.js) and by scripts:
# POST uploads/ {"name", "size"} opens one; PUT uploads/<id>/?offset=N sends the next
# piece as the raw body; GET says how many bytes the server has; POST uploads/<id>/finish/
# turns the file into a dataset; DELETE gives up. Refusals answer {"error": sentence}, with
# the server's "offset" when the client should go on from there.


def _upload_error(exc: uploads.UploadError) -> Response:
    body = {"error": str(exc)}
    if exc.offset is not None:
        body["offset"] = exc.offset
    return Response(body, status=exc.status)


@api_view(["POST"])
@parser_classes([JSONBodyParser])
def upload_begin(request: Request) -> Response:
    """Open an upload from {"name", "size"}; answers its id, URL and piece size."""
    data = json_object(
        request, ("name", "size"), not_json='Send JSON with the file\'s "name" and "size".'
    )
    if isinstance(data, Response):
        return data
    try:
        upload = uploads.upload_begin(
            owner_id=request.user.pk, name=data.get("name", ""), size=data.get("size")
        )
    except uploads.UploadError as exc:
        return _upload_error(exc)
    body = {
        **upload.as_dict(),
        "url": reverse("api_upload_detail", args=[upload.id]),
        "finish_url": reverse("api_upload_finish", args=[upload.id]),
        "chunk_bytes": uploads.CHUNK_BYTES,
    }
    return Response(body, status=status.HTTP_201_CREATED)


@api_view(["GET", "PUT", "DELETE"])
def upload_detail(request: Request, upload_id: str) -> Response:
    """GET: how many bytes the server has. PUT ?offset=N: the next piece. DELETE: give up."""
    try:
        upload = uploads.upload_get(owner_id=request.user.pk, upload_id=upload_id)
        if request.method == "PUT":
            try:
                offset = int(request.query_params.get("offset", ""))
                length = int(request.headers.get("Content-Length") or 0)
            except ValueError:
                return Response({"error": "Give the piece's offset as ?offset=N."}, status=400)
            # The raw body, read block by block: never parsed, never held whole in memory.
            uploads.upload_append(
                upload=upload, offset=offset, stream=request.stream, length=length
            )
        elif request.method == "DELETE":
            uploads.upload_discard(upload=upload)
            return Response({"id": upload_id, "discarded": True})
    except uploads.UploadError as exc:
        return _upload_error(exc)
    return Response(upload.as_dict())


@api_view(["POST"])
def upload_finish(request: Request, upload_id: str) -> Response:
    """Every byte is in: the file becomes a dataset, profiled by a worker."""
    try:
        upload = uploads.upload_get(owner_id=request.user.pk, upload_id=upload_id)
        if not upload.complete:
            raise uploads.UploadError(
                f"The server has {upload.received:,} of {upload.size:,} bytes: "
                "send the rest first.",
                status=409,
                offset=upload.received,
            )
        dataset = services.dataset_create_from_upload(
            owner=request.user, path=upload.data_path, name=upload.name
        )
    except uploads.UploadError as exc:
        return _upload_error(exc)
    except services.ServiceError as exc:
        return Response({"error": str(exc)}, status=400)
    uploads.upload_discard(upload=upload)
    body = {
        **DatasetSerializer(dataset).data,
        "url": reverse("dataset_detail", args=[dataset.pk]),
    }
    return Response(body, status=status.HTTP_201_CREATED)


@api_view(["GET"])
def dataset_detail(request: Request, pk: int) -> Response:
    dataset = get_object_or_404(selectors.datasets_of(request.user), pk=pk)
    profile = dataset.profile
    if profile:
        # Rows of values in the order of profile["columns"], for older profiles too.
        profile = {**profile, "preview": selectors.dataset_preview(dataset, limit=None)}
    return Response({**DatasetSerializer(dataset).data, "profile": profile})


@api_view(["POST"])
@parser_classes([JSONBodyParser])
def run_start(request: Request, pk: int) -> Response:
    dataset = get_object_or_404(selectors.datasets_of(request.user), pk=pk)
    data = json_object(request, RunStartSerializer().fields)
    if isinstance(data, Response):
        return data
    form = RunStartSerializer(data=data)
    if not form.is_valid():
        return Response(
            {"error": f"Invalid run settings: {_first_error(form.errors)}", "fields": form.errors},
            status=400,
        )
    try:
        run = services.run_start(owner=request.user, dataset=dataset, **form.validated_data)
    except services.ServiceError as exc:
        return Response({"error": str(exc)}, status=400)
    return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


@api_view(["GET"])
def run_detail(request: Request, pk: int) -> Response:
    return Response(RunSerializer(get_object_or_404(selectors.runs_of(request.user), pk=pk)).data)


@api_view(["POST"])
def run_finish(request: Request, pk: int) -> Response:
    """Finish now: stop the searches and rank what they have found (202 with the run)."""
    run = get_object_or_404(selectors.runs_of(request.user), pk=pk)
    if not services.run_finish(run=run):
        return Response(
            {"error": "The run is not searching any more, so there is nothing to finish."},
            status=409,
        )
    run.refresh_from_db()
    return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@api_view(["POST"])
@parser_classes([JSONBodyParser])
def predict(request: Request, pk: int) -> Response:
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
        return Response({"error": str(exc)}, status=400)


def _prediction_values_refused(rows) -> Response | None:
    """A 400 for the first value of `rows` no model can take, or None (the shape of
    `rows` is serving's to check)."""
    if not isinstance(rows, list):
        return None
    for number, row in enumerate(rows, start=1):
        for column, value in row.items() if isinstance(row, dict) else ():
            if problem := prediction_value_error(column, value):
                return Response({"error": f"Row {number}: {problem}"}, status=400)
    return None


@api_view(["GET"])
def export_files(request: Request, pk: int) -> Response:
    """The rendered text files of a candidate's code export, by name."""
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    try:
        return Response(services.export_files(candidate=candidate))
    except services.ServiceError as exc:
        return Response({"error": str(exc)}, status=400)


@api_view(["GET"])
def export_zip(request: Request, pk: int) -> FileResponse | Response:
    """The code export of a candidate as a zip."""
    candidate = get_object_or_404(CandidateResult, pk=pk, run__owner=request.user)
    try:
        export = services.export_build(candidate=candidate)
    except services.ServiceError as exc:
        return Response({"error": str(exc)}, status=400)
    name = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name)


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
        return Response({"error": str(exc)}, status=400)
    return Response(CandidateSerializer(candidate).data, status=status.HTTP_202_ACCEPTED)
