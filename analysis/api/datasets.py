"""Datasets in the API: list and upload, detail with profile and findings, read again with
overrides, delete, and the bundled examples the home page offers."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..examples import BY_SLUG, EXAMPLES, example_csv
from ..forms import ReadOptionsForm
from ..models import Dataset
from .errors import refusal
from .filters import by_status, status_parameter
from .parsing import JSONBodyParser, json_object, unknown_fields
from .serializers import DatasetSerializer, ExampleSerializer, RunSummarySerializer


class DatasetDetailSerializer(DatasetSerializer):
    """A dataset with what its page shows: the profile (with every preview row), the
    data-quality findings (most severe first), the suggested target, the sample sizes the
    form offers, the reading overrides in force and the dataset's runs."""

    read_options = serializers.JSONField(read_only=True)
    profile = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    suggested_target = serializers.SerializerMethodField()
    suggested_target_reason = serializers.SerializerMethodField()
    sample_options = serializers.SerializerMethodField()
    runs = serializers.SerializerMethodField()

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "read_options", "profile", "findings",
                  "suggested_target", "suggested_target_reason", "sample_options",
                  "runs"]  # fmt: skip

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_profile(self, dataset: Dataset) -> dict | None:
        if not dataset.profile:
            return None
        # Rows of values in the order of profile["columns"], for older profiles too.
        return {**dataset.profile, "preview": selectors.dataset_preview(dataset, limit=None)}

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_findings(self, dataset: Dataset) -> list[dict]:
        return selectors.dataset_findings(dataset)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_suggested_target(self, dataset: Dataset) -> str | None:
        suggestion = selectors.suggested_target(dataset)
        return suggestion.column if suggestion else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_suggested_target_reason(self, dataset: Dataset) -> str | None:
        """Why that column: the rule PROMISE followed, as a sentence's end."""
        suggestion = selectors.suggested_target(dataset)
        return suggestion.reason if suggestion else None

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_sample_options(self, dataset: Dataset) -> list[dict]:
        return selectors.sample_options(dataset) if dataset.profile else []

    @extend_schema_field(RunSummarySerializer(many=True))
    def get_runs(self, dataset: Dataset) -> list[dict]:
        return RunSummarySerializer(selectors.dataset_runs(dataset), many=True).data


def _owned(request: Request, pk: int) -> Dataset:
    return get_object_or_404(selectors.datasets_of(request.user), pk=pk)


@extend_schema(tags=["datasets"], parameters=[status_parameter(Dataset.Status)])
class DatasetList(generics.ListAPIView):
    """GET: your datasets, newest first, a page at a time (?status= filters).
    POST: upload a table in one request, as a multipart field named "file"."""

    serializer_class = DatasetSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return by_status(selectors.datasets_of(self.request.user), self.request, Dataset.Status)

    @extend_schema(
        tags=["datasets"],
        request={
            "multipart/form-data": inline_serializer(
                "DatasetUpload", {"file": serializers.FileField()}
            )
        },
        responses={201: DatasetSerializer},
    )
    def post(self, request: Request) -> Response:
        if refused := unknown_fields({**request.data, **request.FILES}, ("file",)):
            return refused
        upload = request.FILES.get("file")
        if upload is None:
            return refusal('Send the table as a file field named "file".')
        try:
            dataset = services.dataset_upload(owner=request.user, uploaded_file=upload)
        except services.ServiceError as exc:
            return refusal(str(exc), status=getattr(exc, "status", 400))
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["datasets"], methods=["GET"], responses={200: DatasetDetailSerializer})
@extend_schema(tags=["datasets"], methods=["DELETE"], responses={204: None})
@extend_schema(
    tags=["datasets"],
    methods=["PATCH"],
    request=inline_serializer("DatasetRename", {"name": serializers.CharField()}),
    responses={200: DatasetDetailSerializer},
)
@api_view(["GET", "PATCH", "DELETE"])
@parser_classes([JSONBodyParser])
def dataset_detail(request: Request, pk: int) -> Response:
    """GET: the dataset with its profile and findings. PATCH: rename it (`name`). DELETE:
    the dataset, its runs, their models and exports (a run still going is cancelled first)."""
    dataset = _owned(request, pk)
    if request.method == "DELETE":
        services.dataset_delete(dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)
    if request.method == "PATCH":
        data = json_object(request, ("name",))
        if isinstance(data, Response):
            return data
        try:
            services.dataset_rename(dataset=dataset, name=data.get("name", ""))
        except services.ServiceError as exc:
            return refusal(str(exc), fields={"name": [str(exc)]})
    return Response(DatasetDetailSerializer(dataset).data)


READ_OPTIONS = tuple(ReadOptionsForm.base_fields)


@extend_schema(
    tags=["datasets"],
    request=inline_serializer(
        "ReadOptions",
        {
            "delimiter": serializers.ChoiceField(
                [c for c, _ in ReadOptionsForm.base_fields["delimiter"].choices], required=False
            ),
            "encoding": serializers.ChoiceField(
                [c for c, _ in ReadOptionsForm.base_fields["encoding"].choices], required=False
            ),
            "header_row": serializers.IntegerField(
                required=False, min_value=0, help_text="Line number; 0: no header. Default 1."
            ),
            "sheet": serializers.CharField(required=False, help_text="Excel: name or number."),
            "decimal": serializers.ChoiceField(["", ".", ","], required=False),
        },
    ),
    responses={202: DatasetSerializer},
)
@api_view(["POST"])
@parser_classes([JSONBodyParser])
def dataset_reread(request: Request, pk: int) -> Response:
    """Read the stored file again with your overrides (blank or absent: detected again);
    the dataset goes back to "uploaded" and a worker profiles it anew."""
    dataset = _owned(request, pk)
    data = json_object(request, READ_OPTIONS)
    if isinstance(data, Response):
        return data
    form = ReadOptionsForm(
        {"header_row": 1, **{k: "" if v is None else v for k, v in data.items()}}
    )
    if not form.is_valid():
        fields = {name: list(errors) for name, errors in form.errors.items()}
        name, messages = next(iter(fields.items()))
        return refusal(f"Check the reading options. {name}: {messages[0]}", fields=fields)
    try:
        dataset = services.dataset_reprofile(dataset=dataset, options=form.options())
    except services.ServiceError as exc:
        return refusal(str(exc))
    return Response(DatasetSerializer(dataset).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["examples"], responses={200: ExampleSerializer(many=True)})
@api_view(["GET"])
def examples(request: Request) -> Response:
    """The bundled example tables, to try PROMISE without a file of your own."""
    return Response(
        [{"slug": e.slug, "title": e.title, "target": e.target, "what": e.what} for e in EXAMPLES]
    )


@extend_schema(tags=["examples"], request=None, responses={201: DatasetSerializer})
@api_view(["POST"])
def example_create(request: Request, slug: str) -> Response:
    """Store a bundled example table as your dataset (it is then profiled like an upload)."""
    example = BY_SLUG.get(slug)
    if example is None:
        known = ", ".join(e.slug for e in EXAMPLES)
        return refusal(f"There is no example “{slug}”: choose one of {known}.", status=404)
    try:
        dataset = services.dataset_create_from_path(
            owner=request.user, path=example_csv(example), name=example.filename
        )
    except services.ServiceError as exc:  # over the user's storage quota
        return refusal(str(exc), status=getattr(exc, "status", 400))
    return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)
