"""Serving's numbers for staff: per model latency percentiles, rate, errors, cache hits and
where it is loaded; and the staff action that clears the model and prediction caches."""

import redis
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from .. import serving, serving_metrics
from ..models import CandidateResult
from .errors import refusal

REDIS_DOWN = "The serving numbers live in Redis, which does not answer; try again shortly."


def metrics_report() -> dict:
    """Every model's numbers with its name, this process's cache, and the settings."""
    summary = serving_metrics.summary()
    ids = [m["candidate"] for m in summary["models"]]
    names = {
        c.pk: f"{c.label} · run {c.run_id}"
        for c in CandidateResult.objects.filter(pk__in=ids).only("pk", "label", "run_id")
    }
    for model in summary["models"]:
        model["name"] = names.get(model["candidate"], "(deleted)")
    return {
        **summary,
        "this_process": {
            "process": serving_metrics.process_name(),
            "models": serving.MODELS.loaded(),
            "bytes": serving.MODELS.total_bytes(),
        },
        "settings": {
            "model_cache_mb": settings.SERVING_MODEL_CACHE_MB,
            "prediction_cache_seconds": settings.SERVING_PREDICTION_CACHE_SECONDS,
            "latency_samples": settings.SERVING_LATENCY_SAMPLES,
        },
    }


@extend_schema(tags=["serving"], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsAdminUser])
def metrics(request: Request) -> Response:
    """Staff only: per model P50/P95/P99 latency (ms, of its last requests), requests per
    second (last minute), errors, cache hit rate, and the processes that hold it loaded."""
    try:
        return Response(metrics_report())
    except redis.RedisError:
        return refusal(REDIS_DOWN, status=503)


@extend_schema(tags=["serving"], request=None, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
@permission_classes([IsAdminUser])
def clear(request: Request) -> Response:
    """Staff only: empty the prediction cache and every process's model cache."""
    try:
        removed = serving.clear_caches()
    except redis.RedisError:
        return refusal(REDIS_DOWN, status=503)
    return Response({"cleared": True, "cached_answers_removed": removed})
