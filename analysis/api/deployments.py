"""Deployments in the API: two candidates behind one prediction endpoint (champion and
challenger), created, listed, read with their history, re-split or put in shadow mode,
deleted, asked for predictions, and measured per arm. Only the owner sees one (404)."""

import redis
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from .. import deployment_metrics, deployment_serving, deployments, serving
from ..deployments import Deployment, DeploymentChange, DeploymentError
from ..models import CandidateResult
from ..prediction_input import InputRefused
from .errors import invalid, refusal
from .parsing import JSONBodyParser, json_object

MAX_REQUEST_ID = 200
REDIS_DOWN = "A deployment's numbers live in Redis, which does not answer; try again shortly."


class ArmSerializer(serializers.ModelSerializer):
    run = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = CandidateResult
        fields = ["id", "run", "name", "label"]


class ChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DeploymentChange
        fields = ["action", "mode", "challenger_percent", "by", "at"]


class DeploymentSerializer(serializers.ModelSerializer):
    champion = ArmSerializer(read_only=True)
    challenger = ArmSerializer(read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "name", "champion", "challenger", "mode", "challenger_percent",
                  "created_at", "updated_at"]  # fmt: skip


class DeploymentDetailSerializer(DeploymentSerializer):
    history = ChangeSerializer(many=True, read_only=True, source="changes")

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "history"]


PERCENT_HELP = "Share of requests the challenger answers in split mode: 0 rollback, 100 promotion."


class SettingSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(Deployment.Mode.choices, required=False)
    challenger_percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text=PERCENT_HELP
    )


class CreateSerializer(SettingSerializer):
    name = serializers.CharField(max_length=deployments.MAX_NAME)
    champion = serializers.IntegerField(min_value=1, help_text="A candidate's id.")
    challenger = serializers.IntegerField(min_value=1, help_text="A candidate's id.")


class ArmChoiceSerializer(serializers.Serializer):
    arm = serializers.ChoiceField(
        deployment_serving.ARMS, required=False, help_text="Force this arm to answer."
    )
    request_id = serializers.CharField(
        max_length=MAX_REQUEST_ID,
        required=False,
        help_text="The same id always goes to the same arm (for a given split).",
    )


class PredictSerializer(ArmChoiceSerializer):
    rows = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Records of {column: value}; null for an unknown value.",
    )
    row = serializers.DictField(
        required=False, help_text="One record: the same as rows with one item."
    )


def _owned(request: Request, pk: int) -> Deployment:
    return get_object_or_404(deployments.deployments_of(request.user), pk=pk)


def _refused(exc: DeploymentError) -> Response:
    return refusal(str(exc), fields={exc.field: [str(exc)]} if exc.field else None)


@extend_schema_view(get=extend_schema(tags=["deployments"]))
class DeploymentList(generics.ListAPIView):
    """Your deployments, newest first, a page at a time; POST creates one."""

    serializer_class = DeploymentSerializer
    parser_classes = [JSONBodyParser]

    def get_queryset(self):
        return deployments.deployments_of(self.request.user)

    @extend_schema(
        tags=["deployments"], request=CreateSerializer, responses={201: DeploymentDetailSerializer}
    )
    def post(self, request: Request) -> Response:
        """Put two trained candidates of one dataset and target behind one endpoint."""
        data = json_object(request, CreateSerializer().fields)
        if isinstance(data, Response):
            return data
        form = CreateSerializer(data=data)
        if not form.is_valid():
            return invalid(form.errors, lead="Invalid deployment: ")
        values = form.validated_data
        try:
            deployment = deployments.deployment_create(
                owner=request.user,
                name=values["name"],
                mode=values.get("mode", Deployment.Mode.SPLIT),
                challenger_percent=values.get("challenger_percent", 0),
                **deployments.arms_of(
                    request.user, champion=values["champion"], challenger=values["challenger"]
                ),
            )
        except DeploymentError as exc:
            return _refused(exc)
        return Response(DeploymentDetailSerializer(deployment).data, status=201)


@extend_schema(methods=["GET"], tags=["deployments"], responses={200: DeploymentDetailSerializer})
@extend_schema(methods=["DELETE"], tags=["deployments"], responses={204: None})
@extend_schema(
    methods=["PATCH"],
    tags=["deployments"],
    request=SettingSerializer,
    responses={200: DeploymentDetailSerializer},
)
@api_view(["GET", "PATCH", "DELETE"])
@parser_classes([JSONBodyParser])
def deployment_detail(request: Request, pk: int) -> Response:
    """GET: the deployment and its history of settings (who, when). PATCH: a new split
    and/or mode (0 is the rollback, 100 the promotion). DELETE: remove it (204)."""
    deployment = _owned(request, pk)
    if request.method == "DELETE":
        deployments.deployment_delete(deployment=deployment)
        return Response(status=status.HTTP_204_NO_CONTENT)
    if request.method == "PATCH":
        data = json_object(request, SettingSerializer().fields)
        if isinstance(data, Response):
            return data
        form = SettingSerializer(data=data)
        if not form.is_valid():
            return invalid(form.errors, lead="Invalid setting: ")
        if not form.validated_data:
            return refusal("Send the mode, the challenger_percent, or both.")
        try:
            deployment = deployments.deployment_change(
                deployment=deployment, by=request.user, **form.validated_data
            )
        except DeploymentError as exc:
            return _refused(exc)
    return Response(DeploymentDetailSerializer(deployment).data)


@extend_schema(
    tags=["deployments"], request=PredictSerializer, responses={200: OpenApiTypes.OBJECT}
)
@api_view(["POST"])
@parser_classes([JSONBodyParser])
def deployment_predict(request: Request, pk: int) -> Response:
    """Predictions for one record ("row") or a list ("rows") from the arm the split (or
    "arm") chooses, each record checked against that arm's model as the candidates'
    predict checks it (a missing column or a wrong type is refused by field).

    The answer says which arm ("arm"), which candidate and how it was chosen
    ("assigned_by": forced, shadow, split, request_id or random), and whether the
    challenger was asked on the side ("shadowed").
    """
    deployment = _owned(request, pk)
    data = json_object(request, PredictSerializer().fields)
    if isinstance(data, Response):
        return data
    if ("row" in data) == ("rows" in data):
        return refusal('Send either "row" (one record) or "rows" (a list of records).')
    choice = ArmChoiceSerializer(data={k: v for k, v in data.items() if k in ("arm", "request_id")})
    if not choice.is_valid():
        return invalid(choice.errors)
    try:
        answer = deployment_serving.predict(
            deployment,
            [data["row"]] if "row" in data else data["rows"],
            arm=choice.validated_data.get("arm"),
            request_id=choice.validated_data.get("request_id"),
        )
    except InputRefused as exc:
        return refusal(exc.sentence, fields=exc.fields)
    except serving.PredictionError as exc:
        return refusal(str(exc))
    return Response(answer)


@extend_schema(
    tags=["deployments"],
    responses={
        200: inline_serializer(
            "DeploymentMetrics",
            {
                "arms": serializers.DictField(
                    child=serializers.DictField(),
                    help_text="Per arm: answered, shadowed, errors, error_rate, rows, "
                    "latency_ms {p50, p95, p99}, predictions (label shares or numbers).",
                ),
                "shadow": serializers.DictField(
                    help_text="Shadowed requests: requests, rows, agreement (share of rows "
                    "the arms agree on), mean_abs_difference, skipped."
                ),
            },
        )
    },
)
@api_view(["GET"])
def deployment_metrics_view(request: Request, pk: int) -> Response:
    """Per arm: requests, errors, latency percentiles and the distribution of predictions;
    and how often the arms agree on shadowed requests."""
    deployment = _owned(request, pk)
    try:
        return Response(deployment_metrics.summary(deployment.pk))
    except redis.RedisError:
        return refusal(REDIS_DOWN, status=503)
