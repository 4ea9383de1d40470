"""The prediction page's fields: one per model column, with what the user may type.

A category column offers the categories the model was trained on (its encoder's, from
the model's feature schema) as a list to choose from; a number shows the range observed
in the dataset's profile as a hint; a date an example of the format. The checks of a
sent value (and their messages beside the field) are prediction_input's."""

from __future__ import annotations

from . import serving
from .automl.preprocess import MISSING_CATEGORY
from .models import CandidateResult
from .prediction_input import FeatureSchema

# More known categories than this are offered as suggestions while typing (a datalist of
# the most frequent) rather than as a list to choose from.
MAX_LISTED = 200
SUGGESTIONS = 20


def form_fields(
    candidate: CandidateResult, columns: list[str], values: dict, errors: dict
) -> list[dict]:
    profile = {c["name"]: c for c in (candidate.run.dataset.profile or {}).get("columns", [])}
    try:
        schema = serving.feature_schema(candidate)
    except serving.PredictionError:
        schema = FeatureSchema((), (), ())
    fields = []
    for i, name in enumerate(columns):
        column = profile.get(name, {})
        known = sorted(schema.categories.get(name, ()), key=str)
        known = [v for v in known if v != MISSING_CATEGORY]
        is_category = name in schema.categorical or (
            not schema.columns and column.get("kind") == "categorical"
        )
        numeric = name in schema.numeric or column.get("kind") == "numeric"
        value = values[name]
        field = {
            "id": f"feature-{i}",
            "name": name,
            "value": value,
            "kind": column.get("kind", ""),
            "numeric": numeric and not is_category,
            "errors": errors.get(name, []),
            "select": is_category and 0 < len(known) <= MAX_LISTED,
            "choices": known,
            "low": column.get("min") if numeric else None,
            "high": column.get("max") if numeric else None,
            "date": name in schema.datetime,
        }
        if field["select"]:
            field["unseen"] = value != "" and value not in known
        else:
            top = [str(v) for v, _ in column.get("top_values") or []]
            field["choices"] = top[:SUGGESTIONS] if not field["numeric"] else []
        fields.append(field)
    return fields
