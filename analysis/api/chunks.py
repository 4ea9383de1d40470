"""Chunked, resumable uploads, used by the browser (static/js/upload.js) and by scripts.

POST uploads/ {"name", "size"} opens one; PUT uploads/<id>/?offset=N sends the next piece
as the raw body; GET says how many bytes the server has; POST uploads/<id>/finish/ turns
the file into a dataset; DELETE gives up. Refusals answer {"error": sentence}, with the
server's "offset" when the client should go on from there.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services, uploads
from .errors import refusal
from .parsing import JSONBodyParser, json_object
from .serializers import DatasetSerializer

UploadState = inline_serializer(
    "UploadState",
    {
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "size": serializers.IntegerField(),
        "offset": serializers.IntegerField(help_text="Bytes the server has."),
    },
)


def _upload_error(exc: uploads.UploadError) -> Response:
    extra = {"offset": exc.offset} if exc.offset is not None else {}
    return refusal(str(exc), status=exc.status, **extra)


@extend_schema(
    tags=["uploads"],
    request=inline_serializer(
        "UploadBegin", {"name": serializers.CharField(), "size": serializers.IntegerField()}
    ),
    responses={
        201: inline_serializer(
            "UploadOpened",
            {
                "id": serializers.CharField(),
                "name": serializers.CharField(),
                "size": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
                "url": serializers.CharField(),
                "finish_url": serializers.CharField(),
                "chunk_bytes": serializers.IntegerField(help_text="At most this much a piece."),
            },
        )
    },
)
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


@extend_schema(tags=["uploads"], methods=["GET"], responses={200: UploadState})
@extend_schema(
    tags=["uploads"],
    methods=["PUT"],
    parameters=[OpenApiParameter("offset", int, required=True, description="Where it goes.")],
    request={"application/octet-stream": OpenApiTypes.BINARY},
    responses={200: UploadState},
)
@extend_schema(
    tags=["uploads"],
    methods=["DELETE"],
    responses={
        200: inline_serializer(
            "UploadDiscarded",
            {"id": serializers.CharField(), "discarded": serializers.BooleanField()},
        )
    },
)
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
                return refusal("Give the piece's offset as ?offset=N.")
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


@extend_schema(tags=["uploads"], request=None, responses={201: DatasetSerializer})
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
        return refusal(str(exc), status=getattr(exc, "status", 400))
    uploads.upload_discard(upload=upload)
    body = {
        **DatasetSerializer(dataset).data,
        "url": reverse("dataset_detail", args=[dataset.pk]),
    }
    return Response(body, status=status.HTTP_201_CREATED)
