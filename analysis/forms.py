"""Forms of the pages; they validate input and hand clean values to the services."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm

from .automl.metrics import METRIC_LABELS
from .automl.problem import TASKS

SAMPLE_CHOICES = [("default", "100K rows"), ("full", "Full data"), ("custom", "Custom")]


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
    custom_rows = forms.IntegerField(label="Custom sample rows", required=False, min_value=20)
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
        label="Header row (line number; 0 when there is no header)", min_value=0, initial=1
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
