"""The exporter on its own: literals, the spec, what each family and task renders, the zip."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import jinja2
import pytest

from analysis.automl.candidates import CANDIDATES, get_candidate
from analysis.automl.preprocess import DATETIME_PARTS, MAX_CATEGORIES, MISSING_CATEGORY
from exporters import build_bundle, render_files
from exporters.render import ENVIRONMENT, import_block, pykwargs, pyrepr
from exporters.spec import (
    ExportSpec,
    SampleFacts,
    SourceFile,
    SplitFacts,
)

FAMILIES = [candidate.name for candidate in CANDIDATES]
TASKS = ["regression", "binary", "multiclass"]
SCRIPTS = ["features.py", "model_io.py", "train.py", "evaluate.py", "predict.py"]
HOSTILE_TEXT = [
    "",
    "plain",
    'say "hi"',
    "it's",
    "both ' and \"",
    '"""',
    "'''",
    "\\",
    "ends with a backslash \\",
    "line\nbreak\r\n\ttab",
    "__import__('os').system('x')",
    "{{ spec }}",
    "ünïcødé 名前 🚀",
    "\x00\x7f\u200f\u2028",
    "\ud800",
]


SHA256 = hashlib.sha256(b"churn.csv as uploaded").hexdigest()


def make_spec(family: str = "random_forest", task: str = "regression", **changes) -> ExportSpec:
    """A spec as export_spec builds it, with the real estimator of `family`."""
    candidate = get_candidate(family)
    classification = task != "regression"
    model_file = candidate.model_file
    fields = {
        "title": "Churn, first try",
        "family": family,
        "family_label": candidate.label,
        "task": task,
        "target": "churned" if classification else "monthly_charges",
        "metric": "accuracy" if classification else "r2",
        "score": 0.81,
        "metrics": {"accuracy": 0.81, "log_loss": 0.4} if classification else {"r2": 0.5},
        "metric_labels": {"accuracy": "Accuracy", "log_loss": "Log loss", "r2": "R²"},
        "classes": (["no", "yes"] if task == "binary" else [1, 2, 3]) if classification else None,
        "numeric": ["tenure", "monthly_total"],
        "categorical": ["plan", "shop"],
        "high_cardinality": ["shop"],
        "datetime": ["signup_date"],
        "dropped": {"customer_id": "looks like an identifier"},
        "datetime_parts": list(DATETIME_PARTS),
        "max_categories": MAX_CATEGORIES,
        "missing_category": MISSING_CATEGORY,
        "seed": 7,
        "sample": SampleFacts("random", 1000, 5000, 4900, 800, 200),
        "splits": SplitFacts(
            holdout="stratified" if classification else "random",
            holdout_share=0.2,
            cv_splitter="StratifiedKFold" if classification else "KFold",
            cv_folds=5,
            cv_rows=800,
            cv_scores=[0.8, 0.82, 0.79, 0.81, 0.83]
            if classification
            else [0.5, 0.4, 0.6, 0.5, 0.5],
        ),
        "source": SourceFile(
            name="churn.csv",
            size_bytes=123_456,
            sha256=SHA256,
            read_options={"format": "csv", "encoding": "utf-8", "delimiter": ";", "header_row": 1},
            overrides={"delimiter": ";"},
        ),
        "model_inputs": 14,
        "model_files": [f"/models/{name}" for name in ("model.json", "preprocessor.joblib")]
        + [f"/models/{model_file}"],
        "model_bytes": 12_345,
        "packages": {"numpy": "2.4.6", "pandas": "3.1.1", "scikit-learn": "1.9.1"},
        "python_version": "3.11.7",
        "discovery_packages": {"numpy": "2.4.6", "scikit-learn": "1.9.1", "xgboost-cpu": "3.1.0"},
        "generated_at": "2026-01-02T03:04:05+00:00",
        "fit_seconds": 1.5,
    }
    params = candidate.default_params(task)
    # The model as the family itself describes it for the export (candidates/base.py).
    fields["code"] = candidate.export_code(params, task=task, seed=7, model_inputs=14)
    fields["model_file"] = candidate.model_file
    fields["fit_time_note"] = candidate.fit_time_note
    fields["model_size_note"] = candidate.model_size_note
    fields.update(changes)
    return ExportSpec(**fields)


every_export = pytest.mark.parametrize(
    ("family", "task"), [(family, task) for family in FAMILIES for task in TASKS]
)


def code(files: dict[str, str]) -> str:
    return "\n".join(files[name] for name in SCRIPTS)


@pytest.mark.parametrize(
    "value",
    [*HOSTILE_TEXT, None, True, False, 0, -3, 2**70, 0.1, -1e-300, 1e22, [1, "a"], (), ("a",)]
    + [(1, 2.5), {"a'": ["b\n", None]}, {"k": {"nested": (True,)}}],
)
def test_pyrepr_writes_a_literal_of_the_same_value(value):
    literal = pyrepr(value)

    assert ast.literal_eval(literal) == value
    assert type(ast.literal_eval(literal)) is type(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}, b"bytes"])
def test_pyrepr_refuses_what_has_no_plain_literal(value):
    with pytest.raises((TypeError, ValueError)):
        pyrepr(value)


def test_pyrepr_strings_are_already_as_ruff_formats_them(tmp_path):
    source = tmp_path / "literals.py"
    source.write_text("".join(f"X{i} = {pyrepr(text)}\n" for i, text in enumerate(HOSTILE_TEXT)))
    ruff = Path(sys.executable).with_name("ruff")

    result = subprocess.run(
        [ruff, "format", "--check", "--diff", "--isolated", source.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", ["two words", "class", "x=1)\nimport os\nf(", 3])
def test_pykwargs_refuses_a_name_that_is_no_keyword_argument(name):
    with pytest.raises(ValueError):
        pykwargs({name: 1}, indent=1)


def test_a_value_missing_from_the_spec_fails_the_render():
    template = ENVIRONMENT.from_string("x = {{ spec.no_such_field | pyrepr }}")

    with pytest.raises(jinja2.UndefinedError):
        template.render(spec=make_spec())


@every_export
def test_every_family_and_task_renders_python_that_compiles(family, task):
    files = render_files(make_spec(family, task))

    for name in SCRIPTS:
        compile(files[name], name, "exec")


@pytest.fixture(scope="module")
def every_rendering(tmp_path_factory) -> Path:
    """Every family × task rendered into its own folder under one root, and one export
    made without the uploaded file (its train.py has no file check)."""
    root = tmp_path_factory.mktemp("renderings")
    specs = {f"{family}-{task}": make_spec(family, task) for family in FAMILIES for task in TASKS}
    specs["xgboost-binary-unrecorded-file"] = make_spec("xgboost", "binary", source=None)
    for folder_name, spec in specs.items():
        folder = root / folder_name
        folder.mkdir()
        for name, text in render_files(spec).items():
            (folder / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "command",
    [["check", "--select", "E,F,W,I,B,UP,SIM"], ["format", "--check", "--diff"]],
    ids=["check", "format"],
)
def test_ruff_passes_on_every_family_and_task(every_rendering, command):
    ruff = Path(sys.executable).with_name("ruff")
    failures = []

    for folder in sorted(every_rendering.iterdir()):
        names = sorted(path.name for path in folder.glob("*.py"))
        result = subprocess.run(
            [ruff, *command, "--isolated", *names], cwd=folder, capture_output=True, text=True
        )
        if result.returncode:
            failures.append(f"{folder.name}:\n{result.stdout}")

    assert not failures, "\n".join(failures)


@every_export
def test_it_renders_only_the_code_of_its_task(family, task):
    text = code(render_files(make_spec(family, task)))

    if task == "regression":
        assert "predict_proba" not in text
        assert "CLASSES" not in text
        assert "ClassificationTotals" not in text
    else:
        assert "RegressionTotals" not in text
        assert "def predict(" not in text


@every_export
def test_it_renders_only_the_code_of_its_family(family, task):
    spec = make_spec(family, task)
    text = code(render_files(spec))

    other_classes = {
        cls.rsplit(".", 1)[1]
        for candidate in CANDIDATES
        if candidate.name != family and hasattr(candidate, "regressor")
        for cls in (candidate.regressor, candidate.classifier)
    }
    assert not {cls for cls in other_classes if cls in text}
    if family == "lstm":
        assert "model.joblib" not in text
        assert "def build_estimator" not in text
    else:
        assert "keras" not in text
        assert "TIMESTEPS" not in text
        module, cls = spec.code.model_class.rsplit(".", 1)
        assert f"from {module} import {cls}" in text


def test_every_hyper_parameter_is_a_keyword_argument_of_the_estimator():
    spec = make_spec("xgboost", "binary")

    train = render_files(spec)["train.py"]

    call = next(
        node
        for node in ast.walk(ast.parse(train))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "XGBClassifier"
    )
    written = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    assert written == spec.code.hyper_parameters


def test_feature_kinds_that_are_absent_leave_no_code():
    spec = make_spec(
        "linear", "regression", categorical=[], high_cardinality=[], datetime=[], model_inputs=2
    )

    features = render_files(spec)["features.py"]

    for absent in ("OneHotEncoder", "DATETIME_PARTS", "MISSING_CATEGORY", "warnings"):
        assert absent not in features


def test_the_spec_refuses_a_package_pin_that_would_add_a_line():
    with pytest.raises(ValueError, match="package pin"):
        make_spec(packages={"numpy": "2.4.6\n--index-url http://example.com/simple"})


@pytest.mark.parametrize(
    ("part", "source", "problem"),
    [
        ("train_imports", ["import os; import sys"], "not one import statement"),
        ("model_io_imports", ["os.system('x')"], "not one import statement"),
        ("fit", "estimator.fit(inputs, target", "fit code is not Python statements"),
        ("load", "x = 1", "load code is not a Python expression"),
        ("noun", "class", "cannot name the fitted model"),
        ("model_type", "Ridge()", "dotted names"),
        ("train_notes", 'ends the docstring """', "cannot be written into a docstring"),
    ],
)
def test_the_spec_refuses_family_code_that_would_not_render_as_python(part, source, problem):
    code = replace(
        get_candidate("linear").export_code({}, task="binary", seed=7, model_inputs=3),
        **{part: source},
    )

    with pytest.raises(ValueError, match=problem):
        make_spec("linear", "binary", code=code)


def test_the_scripts_hold_the_familys_code_as_it_gives_it():
    given = make_spec("xgboost", "multiclass").code
    marked = replace(given, train_functions=given.train_functions + "\n\n\ndef marked():\n    pass")

    files = render_files(make_spec("xgboost", "multiclass", code=marked))

    assert "def marked():\n    pass\n" in files["train.py"]
    assert given.readme_training in files["README.md"]
    assert "--external-memory" not in code(render_files(make_spec("random_forest", "binary")))


def test_imports_are_sorted_merged_and_grouped_as_ruff_wants_them():
    lines = [
        "import pandas as pd",
        "from sklearn.compose import make_column_selector",
        "import os",
        "from pathlib import Path",
        "from sklearn.compose import ColumnTransformer",
        "import os",
        "import keras",
    ]

    assert import_block(lines) == (
        "import os\nfrom pathlib import Path\n\n"
        "import keras\nimport pandas as pd\n"
        "from sklearn.compose import ColumnTransformer, make_column_selector"
    )


def test_the_spec_round_trips_through_json():
    spec = make_spec("lstm", "multiclass")

    assert ExportSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_requirements_pin_every_package_and_name_the_python_version():
    lines = render_files(make_spec())["requirements.txt"].splitlines()

    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins == ["numpy==2.4.6", "pandas==3.1.1", "scikit-learn==1.9.1"]
    assert any("Python 3.11" in line for line in lines if line.startswith("#"))


def test_config_json_records_what_discovery_found():
    spec = make_spec("decision_tree", "binary")

    config = json.loads(render_files(spec)["config.json"])

    assert config["model"]["class"] == "sklearn.tree.DecisionTreeClassifier"
    assert config["model"]["hyper_parameters"] == spec.code.hyper_parameters
    assert config["features"]["categorical"] == ["plan", "shop"]
    assert config["features"]["target_encoded"] == ["shop"]
    assert (config["target"], config["classes"], config["seed"]) == ("churned", ["no", "yes"], 7)
    assert config["sample"]["sample_rows"] == 1000


def test_the_readme_says_the_model_trained_on_a_sample():
    readme = render_files(make_spec())["README.md"]

    assert "Trained on a sample of 1000 of 4900 rows" in readme


def test_the_readme_shows_a_hostile_name_as_one_code_span():
    readme = render_files(make_spec(numeric=["a`b\n# not a heading"]))["README.md"]

    assert '- ``"a`b\\n# not a heading"``: number' in readme


def model_files(folder: Path) -> list[str]:
    names = ["model.json", "preprocessor.joblib", "model.joblib"]
    for name in names:
        (folder / name).write_bytes(f"stand-in for {name}".encode())
    return [str(folder / name) for name in names]


def test_the_zip_holds_the_files_and_a_manifest_of_their_checksums(tmp_path):
    spec = make_spec(model_files=model_files(tmp_path))

    names = build_bundle(spec, tmp_path / "export.zip")

    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        assert sorted(archive.namelist()) == sorted(names)
        contents = {name: archive.read(name) for name in names}
    listed = dict(
        reversed(line.split("  ", 1)) for line in contents.pop("MANIFEST").decode().splitlines()
    )
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    assert {"model.joblib", "train.py", "evaluate.py", "README.md"} <= set(listed)


def test_the_same_spec_gives_the_same_zip(tmp_path):
    spec = make_spec(model_files=model_files(tmp_path))

    build_bundle(spec, tmp_path / "first.zip")
    build_bundle(spec, tmp_path / "second.zip")

    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()
