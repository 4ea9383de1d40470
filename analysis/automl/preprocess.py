"""Turn a profiled table into model inputs: which columns feed the models, and how.

Two steps, both written out again by the code export (`exporters/templates/features.py.j2`),
so a change here must be mirrored there; the export tests check the two agree:

1. `prepare_frame` — plain pandas: keep the feature columns, read datetimes into numeric
   parts, make categories text. Columns missing at prediction time become missing values.
2. `build_preprocessor` — a scikit-learn ColumnTransformer of stock transformers
   (imputation, scaling, one-hot for categories with few values, target encoding for
   those with many), fitted on training rows only.

Target encoding replaces each category by the target's mean for it (one column per
class for multi-class targets), shrunk towards the overall mean for rare categories.
scikit-learn's TargetEncoder cross-fits it: a training row is encoded by means learned
on the other folds, so the models never see their own row's target through it.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

from . import kinds
from .kinds import MAX_CATEGORIES

DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")
MISSING_CATEGORY = "__missing__"
# TargetEncoder's own names for the three kinds of task.
TARGET_TYPES = {"regression": "continuous", "binary": "binary", "multiclass": "multiclass"}
TARGET_ENCODING_FOLDS = 5


@dataclass(frozen=True)
class FeatureSpec:
    """The feature columns by kind, and the columns left out with the reason why.

    `high_cardinality` lists the categorical columns that are target-encoded.
    """

    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    dropped: dict[str, str] = field(default_factory=dict)
    high_cardinality: list[str] = field(default_factory=list)

    @property
    def one_hot(self) -> list[str]:
        return [name for name in self.categorical if name not in self.high_cardinality]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]

    @property
    def datetime_features(self) -> list[str]:
        return [f"{col}__{part}" for col in self.datetime for part in DATETIME_PARTS]

    def to_dict(self) -> dict:
        data = asdict(self)
        if not self.high_cardinality:
            # As specs were before target encoding, so their model files still match.
            del data["high_cardinality"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(**data)


def feature_spec(
    profile: kinds.DatasetProfile,
    *,
    target: str,
    excluded: tuple[str, ...] = (),
    target_encoding: bool = True,
) -> FeatureSpec:
    """Choose the feature columns from the profile; everything left out gets a reason.

    With `target_encoding`, categorical columns of more than MAX_CATEGORIES values are
    target-encoded; without it (when training folds may lack classes: scikit-learn's
    multi-class encoder needs all of them) they are one-hot encoded like the others.
    """
    numeric, categorical, datetime, dropped, high = [], [], [], {}, []
    for column in profile.columns:
        name = column.name
        if name == target:
            continue
        if name in excluded:
            dropped[name] = "was excluded by you"
        elif column.kind in kinds.LEFT_OUT:
            dropped[name] = kinds.LEFT_OUT[column.kind]
        elif column.kind == kinds.DATETIME:
            datetime.append(name)
        elif column.kind == kinds.NUMERIC or (column.kind == kinds.BOOLEAN and column.numeric):
            numeric.append(name)
        else:
            categorical.append(name)
            if target_encoding and column.distinct > MAX_CATEGORIES:
                high.append(name)
    return FeatureSpec(numeric, categorical, datetime, dropped=dropped, high_cardinality=high)


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


def build_preprocessor(spec: FeatureSpec, task: str, seed: int = 0) -> ColumnTransformer:
    """The unfitted ColumnTransformer for `spec`: impute and scale numbers, encode categories.

    Fit it with the training rows' target (`fit(X, y)`), which target encoding learns from.
    """
    folds = KFold if task == "regression" else StratifiedKFold
    cross_fit = folds(TARGET_ENCODING_FOLDS, shuffle=True, random_state=seed)
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    one_hot = Pipeline(
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
    target_encoded = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            ("encode", TargetEncoder(target_type=TARGET_TYPES[task], cv=cross_fit)),
            ("scale", StandardScaler()),
        ]
    )
    groups = [
        ("numeric", numeric, [*spec.numeric, *spec.datetime_features]),
        ("categorical", one_hot, spec.one_hot),
        ("target_encoded", target_encoded, spec.high_cardinality),
    ]
    return ColumnTransformer(
        [group for group in groups if group[2]], verbose_feature_names_out=False
    )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")
