"""Forms of the pages; they validate input and hand clean values to the services."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm

from .automl.metrics import METRIC_LABELS
from .automl.problem import TASKS

SAMPLE_CHOICES = [("default", "100K rows"), ("full", "Full data"), ("custom", "Custom")]
# More rows than any file holds; a bound, so that a number too large for the database
# column is refused with a sentence instead of failing on save.
MAX_SAMPLE_ROWS = 10**12
SAMPLE_ROWS_MESSAGE = (
    f"A sample has at most {MAX_SAMPLE_ROWS:,} rows: give a smaller number, or use the full data."
)
# The largest number a 32-bit float holds (numpy.finfo(numpy.float32).max): the trees,
# XGBoost and ONNX Runtime compute in float32, so a larger value cannot reach them.
FLOAT32_MAX = 3.4028234663852886e38
# The header must be in the first megabyte of the file, which detection reads: that holds
# about a million lines at most. A larger number would only make a worker skip lines.
MAX_HEADER_ROW = 1_000_000


def prediction_value_error(column: str, value: object) -> str | None:
    """Why a model cannot be given `value` in `column` (a sentence), or None when it can.

    A value is a number, a string, true, false or null; a number, or a string that reads
    as one, must fit a 32-bit float.
    """
    if value is not None and not isinstance(value, bool | int | float | str):
        return f"The value of {column!r} must be a number, a string, true, false or null."
    if value is None or isinstance(value, bool):
        return None
    try:
        size = abs(float(value))
    except ValueError:  # a string that is not a number: the model reads it as a category
        return None
    except OverflowError:  # an integer beyond any float
        size = float("inf")
    if size > FLOAT32_MAX:
        return (
            f"The value of {column!r} is too large: the models take numbers between "
            f"-{FLOAT32_MAX:.1e} and {FLOAT32_MAX:.1e}."
        )
    return None


class SignupForm(BaseUserCreationForm):
    """A user name and a password twice. Whether the name is taken is not checked here: an
    error for that would tell anyone which names exist (see `accounts.signup`)."""

    class Meta(BaseUserCreationForm.Meta):
        fields = ("username",)

    def validate_unique(self):
        pass


class UploadForm(forms.Form):
    # Every format the ingest package (analysis/automl/ingest/) reads; the content decides.
    file = forms.FileField(
        label=(
            "Table file: CSV or other delimited text (TSV, ; or | separated) or JSON Lines, "
            "plain or gzip, bz2 or zip compressed; Excel .xlsx; or Parquet"
        )
    )


def _one_newline(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class ColumnChoice:
    """Matches a submitted column name to the column it names, line breaks aside.

    Browsers send every line break of an option's value as CRLF, so a column whose name
    holds a line break (a quoted CSV header may) comes back spelt differently.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, list):
            return [self._column(v) for v in value]
        return self._column(value)

    def _column(self, value: str) -> str:
        wanted = _one_newline(value)
        return next((name for name, _ in self.choices if _one_newline(name) == wanted), value)


class ColumnChoiceField(ColumnChoice, forms.ChoiceField):
    pass


class ColumnsChoiceField(ColumnChoice, forms.MultipleChoiceField):
    pass


class RunForm(forms.Form):
    target = ColumnChoiceField(label="Target column (what to predict)")
    task = forms.ChoiceField(
        label="Task",
        required=False,
        choices=[("", "Detect from the target")] + [(t, t.capitalize()) for t in TASKS],
    )
    metric = forms.ChoiceField(
        label="Rank models by",
        required=False,
        choices=[
            ("", "R² (regression) or accuracy (classification)"),
            *((m, METRIC_LABELS[m]) for m in ("r2", "rmse", "mae")),
            *((m, METRIC_LABELS[m]) for m in ("balanced_accuracy", "f1_macro", "log_loss")),
        ],
    )
    sample = forms.ChoiceField(label="Sample size", choices=SAMPLE_CHOICES, initial="default")
    custom_rows = forms.IntegerField(
        label="Custom sample rows",
        required=False,
        min_value=20,
        max_value=MAX_SAMPLE_ROWS,
        error_messages={"max_value": SAMPLE_ROWS_MESSAGE},
    )
    sample_strategy = forms.ChoiceField(
        label="Sampling strategy",
        required=False,
        choices=[
            ("random", "Random rows"),
            ("stratified", "Stratified (keeps class shares)"),
            ("time_based", "Most recent rows (time-based)"),
        ],
        initial="random",
    )
    time_column = ColumnChoiceField(label="Time column (time-based sampling)", required=False)
    time_budget = forms.IntegerField(
        label="Time budget (seconds)",
        min_value=10,
        max_value=24 * 3600,
        initial=settings.PROMISE_DEFAULT_TIME_BUDGET,
    )
    excluded_columns = ColumnsChoiceField(
        label="Columns to leave out", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, columns: list[str], time_columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c, c) for c in columns]
        self.fields["target"].choices = choices
        self.fields["excluded_columns"].choices = choices
        self.fields["time_column"].choices = [("", "Detect (first date column)")] + [
            (c, c) for c in time_columns
        ]

    def clean(self):
        data = super().clean()
        if data.get("sample") == "custom" and not data.get("custom_rows"):
            self.add_error("custom_rows", "Give the number of rows for a custom sample.")
        return data

    def clean_sample_strategy(self) -> str:
        return self.cleaned_data["sample_strategy"] or "random"

    def sample_size(self) -> int | None:
        choice = self.cleaned_data["sample"]
        if choice == "full":
            return None
        if choice == "custom":
            return self.cleaned_data["custom_rows"]
        return settings.PROMISE_DEFAULT_SAMPLE_ROWS


class CompareForm(forms.Form):
    first = forms.ChoiceField(label="First model")
    second = forms.ChoiceField(label="Second model")

    def __init__(self, *args, candidates, run, **kwargs):
        super().__init__(*args, **kwargs)
        trained = [c for c in candidates if c.status == "succeeded"]
        choices = [(c.name, c.label) for c in trained]
        self.fields["first"].choices = choices
        self.fields["second"].choices = choices
        if len(trained) >= 2:
            self.fields["first"].initial = trained[0].name
            self.fields["second"].initial = trained[1].name

    def clean(self):
        data = super().clean()
        if data.get("first") and data.get("first") == data.get("second"):
            raise forms.ValidationError("Choose two different models.")
        return data


class ReadOptionsForm(forms.Form):
    """How to read a file when detection guessed wrong (analysis.automl.ingest.IngestOptions)."""

    delimiter = forms.ChoiceField(
        label="Delimiter",
        required=False,
        choices=[
            ("", "Detect"),
            (",", "Comma ,"),
            (";", "Semicolon ;"),
            ("\t", "Tab"),
            ("|", "Pipe |"),
        ],  # fmt: skip
    )
    encoding = forms.ChoiceField(
        label="Encoding",
        required=False,
        choices=[
            ("", "Detect"),
            ("utf-8", "UTF-8"),
            ("utf-16", "UTF-16"),
            ("cp1252", "Windows-1252"),
            ("latin-1", "Latin-1"),
        ],  # fmt: skip
    )
    header_row = forms.IntegerField(
        label="Header row (line number; 0 when there is no header)",
        min_value=0,
        max_value=MAX_HEADER_ROW,
        initial=1,
        error_messages={
            "max_value": f"The header row must be one of the file's first "
            f"{MAX_HEADER_ROW:,} lines: choose an earlier line."
        },
    )
    sheet = forms.CharField(label="Sheet (Excel: name or number)", required=False, max_length=200)
    decimal = forms.ChoiceField(
        label="Decimal mark",
        required=False,
        choices=[("", "Detect"), (".", "Point ."), (",", "Comma ,")],
    )

    def options(self) -> dict:
        """The chosen overrides, leaving out what should be detected."""
        data = self.cleaned_data
        chosen = {key: data[key] or None for key in ("delimiter", "encoding", "sheet", "decimal")}
        return {"header_row": data["header_row"], **chosen}
