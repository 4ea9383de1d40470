"""What an export states about one trained candidate, as plain data.

`analysis.automl.export.export_spec` builds it from a run folder; the templates read
nothing else. Keeping it plain data (no estimators, no DataFrames) is what lets the
exporter stay independent of the AutoML core and lets a spec be stored as JSON.
"""

from __future__ import annotations

import ast
import datetime as dt
import keyword
import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", re.ASCII)
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
# A family's name (candidates/), and the file its fitted model is saved in.
_FAMILY = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_MODEL_FILE = re.compile(r"model\.[a-z0-9]+", re.ASCII)

REGRESSION = "regression"
CLASSIFICATION_TASKS = ("binary", "multiclass")
TASKS = (REGRESSION, *CLASSIFICATION_TASKS)
# How the holdout was cut from the sample: a seeded split (stratified by class, or not),
# or the latest rows of a time-based sample.
HOLDOUT_METHODS = ("stratified", "random", "latest")
# scikit-learn splitters the CV folds came from; "" when the model was fitted once without CV.
CV_SPLITTERS = ("StratifiedKFold", "KFold", "TimeSeriesSplit", "")


@dataclass(frozen=True)
class ModelCode:
    """A family's own part of the export, as its Candidate writes it (candidates/).

    The templates paste these in as they are and know no family. Code is Python source
    at column 0 (the templates indent it); a part the family does not need is empty.
    """

    # The class of the fitted model ("xgboost.XGBClassifier") and the hyper-parameters
    # it was built with, for config.json.
    model_class: str
    hyper_parameters: dict[str, Any]
    # What the scripts call the fitted model ("estimator", "network"): model_io.Model's
    # field, of type `model_type`, and the word the docstrings use.
    noun: str
    model_type: str
    # model_io.py's docstring line on the model file ("the fitted XGBClassifier").
    file_description: str
    # model_io.py. `predict`: Model's statements from the preprocessed `inputs` to the
    # class probabilities `proba` (classification) or to returning the predicted values;
    # `save`: the statement writing `model`'s fitted model into `directory`; `load`: the
    # expression reading it back from `directory`.
    predict: str
    save: str
    load: str
    # train.py. `build`: the functions that build the unfitted model, before `train`;
    # `fit`: train's statements from the preprocessed `inputs` and encoded `target` (with
    # `preprocessor` fitted) to returning `model_io.Model(preprocessor, <fitted model>)`;
    # `command`: main()'s statements that set `model` from the parsed `args`.
    build: str
    fit: str
    command: str
    # README.md: what the model is (a Markdown paragraph).
    readme_model: str
    # Import statements each script adds to its own (they are sorted in with them), and
    # statements both run after their imports, before features.py's: a setting that a
    # library reads when imported, then its import (Keras's log level, then Keras).
    model_io_imports: list[str] = field(default_factory=list)
    train_imports: list[str] = field(default_factory=list)
    late_imports: str = ""
    # model_io.py's constants (after its own) and functions (after the Model class).
    model_io_constants: str = ""
    model_io_functions: str = ""
    # train.py's constants, functions after `train`, the options added to the `rows`
    # group of its command line (ways to choose the rows trained on), and for its
    # docstring more usage lines and a paragraph on them.
    train_constants: str = ""
    train_functions: str = ""
    options: str = ""
    usage: list[str] = field(default_factory=list)
    train_notes: str = ""
    # README.md: more ways to train the model (a Markdown paragraph, may be empty).
    readme_training: str = ""

    def problems(self) -> list[str]:
        """What is wrong with the code, in words; empty when it can be rendered."""
        problems = []
        if not (
            _DOTTED_NAME.fullmatch(self.model_class) and _DOTTED_NAME.fullmatch(self.model_type)
        ):
            problems.append("the model's class and type must be dotted names")
        if not (self.noun.isidentifier() and not keyword.iskeyword(self.noun)):
            problems.append(f"{self.noun!r} cannot name the fitted model")
        for line in [*self.model_io_imports, *self.train_imports]:
            if not _is_import(line):
                problems.append(f"{line!r} is not one import statement")
        statements = {
            name: getattr(self, name)
            for name in (
                *("predict", "save", "build", "fit", "command", "late_imports"),
                *("model_io_constants", "model_io_functions", "train_constants"),
                *("train_functions", "options"),
            )
        }
        for name, source in statements.items():
            if not _parses(source, "exec"):
                problems.append(f"the {name} code is not Python statements")
        if not _parses(self.load, "eval"):
            problems.append("the load code is not a Python expression")
        for text in [self.file_description, self.train_notes, *self.usage]:
            # They are written inside a docstring.
            if '"""' in text or "\\" in text:
                problems.append(f"{text!r} cannot be written into a docstring")
        return problems


@dataclass(frozen=True)
class SampleFacts:
    """How the discovery data was drawn: `sample_rows` of `usable_rows` rows with a target."""

    strategy: str
    sample_rows: int
    total_rows: int
    usable_rows: int
    train_rows: int
    holdout_rows: int
    # The column a time-based sample was ordered by; None for the other strategies.
    time_column: str | None = None

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.usable_rows


@dataclass(frozen=True)
class SourceFile:
    """The uploaded file discovery read: its name, size and SHA-256, and how it was read."""

    name: str
    size_bytes: int
    sha256: str
    # How the file was read, with the user's overrides applied: format, compression,
    # encoding, delimiter, decimal mark, sheet, header row.
    read_options: dict[str, Any]
    # Only the settings the user chose instead of the detected ones.
    overrides: dict[str, Any] = field(default_factory=dict)
    # Header names that were blank or repeated, and the names they were read under.
    renamed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SplitFacts:
    """How the sample was split: the holdout once, then the CV folds of the training part.

    `cv_folds` and `cv_splitter` are those of this candidate's search (None when not
    recorded). `cv_rows` is how many training rows the search used: fewer than the
    training part when it ran on a subset, the latest rows or a seeded draw of
    `cv_drawn` rows (plus, for classes, each class's first rows; None when the draw's
    size was not recorded). `quick_cv`: the time limit allowed only a quick CV.
    """

    holdout: str
    holdout_share: float
    cv_splitter: str | None = None
    cv_folds: int | None = None
    cv_rows: int | None = None
    cv_scores: list[float] = field(default_factory=list)
    cv_drawn: int | None = None
    quick_cv: bool = False


@dataclass(frozen=True)
class ExportSpec:
    """Everything one export says: the model, its scores, its features and its files."""

    title: str
    family: str
    family_label: str
    task: str
    target: str
    metric: str
    score: float
    metrics: dict[str, float]
    metric_labels: dict[str, str]
    classes: list | None
    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    dropped: dict[str, str]
    datetime_parts: list[str]
    max_categories: int
    missing_category: str
    seed: int
    sample: SampleFacts
    splits: SplitFacts
    # Width of the preprocessed matrix the model reads (after one-hot encoding).
    model_inputs: int
    model_files: list[str]
    # Size of the fitted model file (`model_file`), for the README.
    model_bytes: int
    packages: dict[str, str]
    python_version: str
    # The libraries installed where PROMISE discovered the model, beyond the pins.
    discovery_packages: dict[str, str]
    generated_at: str
    # The family's own code: how the model is built, trained, saved and loaded.
    code: ModelCode
    # The file holding the fitted model itself.
    model_file: str = "model.joblib"
    # README sentences of the family: what a fit's time adds to linear growth, and what
    # sets the model file's size (str.format fields: megabytes, gigabytes_per_million, rows).
    fit_time_note: str = ""
    model_size_note: str = ""
    fit_seconds: float | None = None
    # The categorical columns that are target-encoded (more than max_categories values).
    high_cardinality: list[str] = field(default_factory=list)
    target_encoding_folds: int = 5
    # The uploaded file; None when the export was made without it (it is then not checked).
    source: SourceFile | None = None

    def __post_init__(self) -> None:
        problems = []
        if not _FAMILY.fullmatch(self.family):
            problems.append(f"{self.family!r} is not a family name")
        if self.task not in TASKS:
            problems.append(f"unknown task {self.task!r}")
        if not _MODEL_FILE.fullmatch(self.model_file):
            problems.append(f"{self.model_file!r} is not a model file name")
        if self.is_classification != bool(self.classes):
            problems.append("classes are required for classification and only for it")
        if sorted(PurePath(p).name for p in self.model_files) != sorted(self.model_file_names):
            problems.append(f"model files must be {', '.join(self.model_file_names)}")
        problems.extend(self.code.problems())
        for name, version in [*self.packages.items(), *self.discovery_packages.items()]:
            if not (_PACKAGE.fullmatch(name) and _VERSION.fullmatch(version)):
                problems.append(f"{name}=={version} is not a package pin")
        if self.source is not None and not _SHA256.fullmatch(self.source.sha256):
            problems.append(f"{self.source.sha256!r} is not a lowercase hex SHA-256")
        if self.splits.holdout not in HOLDOUT_METHODS:
            problems.append(f"unknown holdout method {self.splits.holdout!r}")
        if self.splits.cv_splitter is not None and self.splits.cv_splitter not in CV_SPLITTERS:
            problems.append(f"unknown CV splitter {self.splits.cv_splitter!r}")
        if not _VERSION.fullmatch(self.python_version):
            problems.append(f"{self.python_version!r} is not a Python version")
        try:
            dt.datetime.fromisoformat(self.generated_at)
        except ValueError:
            problems.append(f"{self.generated_at!r} is not an ISO date and time")
        if problems:
            raise ValueError("Invalid export spec: " + "; ".join(problems) + ".")

    @property
    def is_classification(self) -> bool:
        return self.task in CLASSIFICATION_TASKS

    @property
    def one_hot(self) -> list[str]:
        """The categorical columns encoded one column per category."""
        return [name for name in self.categorical if name not in self.high_cardinality]

    @property
    def model_file_name(self) -> str:
        """The file holding the fitted model itself."""
        return self.model_file

    @property
    def model_file_names(self) -> list[str]:
        return ["model.json", "preprocessor.joblib", self.model_file_name]

    @property
    def numeric_classes(self) -> bool:
        """True when every class label is a number (bools are labels, not numbers)."""
        return bool(self.classes) and all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in self.classes
        )

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportSpec:
        fields = dict(data)
        fields["sample"] = SampleFacts(**data["sample"])
        fields["splits"] = SplitFacts(**data["splits"])
        if data.get("source") is not None:
            fields["source"] = SourceFile(**data["source"])
        fields["code"] = ModelCode(**data["code"])
        return cls(**fields)


def _is_import(line: str) -> bool:
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], ast.Import | ast.ImportFrom)


def _parses(source: str, mode: str) -> bool:
    try:
        ast.parse(source, mode=mode)
    except SyntaxError:
        return False
    return True
