"""Query-string filters of the list endpoints, refused by name when they make no sense."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def status_parameter(choices) -> OpenApiParameter:
    return OpenApiParameter(
        "status", str, enum=[value for value, _ in choices.choices], description="Only these."
    )


DATASET_PARAMETER = OpenApiParameter("dataset", int, description="Only the runs of this dataset.")


def by_status(queryset: QuerySet, request: Request, choices) -> QuerySet:
    """Filter on ?status= when given; an unknown status is a 400 naming the known ones."""
    status = request.query_params.get("status")
    if status is None:
        return queryset
    if status not in choices.values:
        known = ", ".join(choices.values)
        raise ValidationError({"status": [f"“{status}” is not a status: choose one of {known}."]})
    return queryset.filter(status=status)


def by_dataset(queryset: QuerySet, request: Request) -> QuerySet:
    """Filter on ?dataset=<id> when given; anything but a number is a 400."""
    dataset = request.query_params.get("dataset")
    if dataset is None:
        return queryset
    if not (dataset.isascii() and dataset.isdecimal() and len(dataset) <= 18):
        raise ValidationError({"dataset": ["Give the dataset by its number: ?dataset=<id>."]})
    return queryset.filter(dataset_id=int(dataset))
