"""Turn a profiled table into model inputs: which columns feed the models, and how.

Two steps, both written out again by the code export (`exporters/templates/features.py.j2`),
so a change here must be mirrored there; the export tests check the two agree:

1. `prepare_frame` — plain pandas: keep the feature columns, read datetimes into numeric
   parts, make categories text. Columns missing at prediction time become missing values.
2. `build_preprocessor` — a scikit-learn ColumnTransformer of stock transformers
   (imputation, scaling, one-hot with a cap on categories), fitted on training rows only.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import profile as kinds

DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")
# Categories beyond the most frequent ones share one "infrequent" column.
MAX_CATEGORIES = 20
MISSING_CATEGORY = "__missing__"

_DROP_REASONS = {
    kinds.IDENTIFIER: "looks like an identifier (nearly every value is unique)",
    kinds.CONSTANT: "has a single value",
    kinds.EMPTY: "is empty",
    kinds.TEXT: "is free text, which PROMISE does not model yet",
}


@dataclass(frozen=True)
class FeatureSpec:
    """The feature columns by kind, and the columns left out with the reason why."""

    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]

    @property
    def datetime_features(self) -> list[str]:
        return [f"{col}__{part}" for col in self.datetime for part in DATETIME_PARTS]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(**data)


def feature_spec(
    profile: kinds.DatasetProfile, *, target: str, excluded: tuple[str, ...] = ()
) -> FeatureSpec:
    """Choose the feature columns from the profile; everything left out gets a reason."""
    numeric, categorical, datetime, dropped = [], [], [], {}
    for column in profile.columns:
        name = column.name
        if name == target:
            continue
        if name in excluded:
            dropped[name] = "was excluded by you"
        elif column.kind in _DROP_REASONS:
            dropped[name] = _DROP_REASONS[column.kind]
        elif column.kind == kinds.DATETIME:
            datetime.append(name)
        elif column.kind == kinds.NUMERIC or (
            column.kind == kinds.BOOLEAN and column.dtype.startswith(("float", "int"))
        ):
            numeric.append(name)
        else:
            categorical.append(name)
    return FeatureSpec(numeric=numeric, categorical=categorical, datetime=datetime, dropped=dropped)


def prepare_frame(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Return the model inputs of `frame`: numbers as floats, datetime parts, categories as text."""
    columns = {}
    for name in spec.numeric:
        columns[name] = pd.to_numeric(_column(frame, name), errors="coerce").astype("float64")
    for name in spec.datetime:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moments = pd.to_datetime(
                _column(frame, name), errors="coerce", utc=True, format="mixed"
            )
        for part in DATETIME_PARTS:
            columns[f"{name}__{part}"] = getattr(moments.dt, part).astype("float64")
    for name in spec.categorical:
        values = _column(frame, name)
        columns[name] = (
            values.astype(object).where(values.notna(), np.nan).map(str, na_action="ignore")
        )
    return pd.DataFrame(columns, index=frame.index)


def build_preprocessor(spec: FeatureSpec) -> ColumnTransformer:
    """The unfitted ColumnTransformer for `spec`: impute and scale numbers, one-hot categories."""
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    max_categories=MAX_CATEGORIES,
                    sparse_output=False,
                ),
            ),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, [*spec.numeric, *spec.datetime_features]),
            ("categorical", categorical, spec.categorical),
        ],
        verbose_feature_names_out=False,
    )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")
