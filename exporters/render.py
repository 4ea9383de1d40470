"""Render the export's text files from Jinja2 templates and an `ExportSpec`.

One Environment configured for code: StrictUndefined (a missing value is an error,
never an empty string in the output), block tags that leave no stray whitespace, no
HTML autoescaping. Every value that came from a user (column names, categories,
classes, the target) enters Python code only through the `pyrepr` filter, which writes
it as a Python literal, or through JSON; the README shows them through `mdcode`.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
import sys
from pathlib import Path
from typing import Any

import jinja2

from .record import readme_phrases, reproducibility_record, split_code
from .spec import ExportSpec

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Rendered file name → template name; config.json is written with json instead.
TEMPLATE_FILES = {
    "README.md": "README.md.j2",
    "requirements.txt": "requirements.txt.j2",
    "features.py": "features.py.j2",
    "model_io.py": "model_io.py.j2",
    "train.py": "train.py.j2",
    "evaluate.py": "evaluate.py.j2",
    "predict.py": "predict.py.j2",
}
# The order files are previewed and zipped in: what to read first, then the code.
FILE_ORDER = [
    "README.md",
    "requirements.txt",
    "config.json",
    "features.py",
    "model_io.py",
    "train.py",
    "evaluate.py",
    "predict.py",
]
INDENT = "    "


def pyrepr(value: Any) -> str:
    """`value` as a Python literal, quoted the way `ruff format` leaves it.

    Handles None, bools, ints, finite floats, strings and lists, tuples and dicts of
    them; anything else raises TypeError rather than being pasted into code as text.
    """
    _require_defined(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no Python literal; the export cannot embed it.")
        return repr(value)
    if isinstance(value, str):
        return _string_literal(value)
    if isinstance(value, list):
        return "[" + ", ".join(pyrepr(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(pyrepr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pyrepr(k)}: {pyrepr(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"{type(value).__name__} values cannot be written into exported code.")


def pylist(values: list, indent: int = 0) -> str:
    """A list literal with one item per line and a trailing comma (`[]` when empty).

    The trailing comma keeps `ruff format` from joining the items, so the rendered
    file is already formatted however long the names are.
    """
    _require_defined(values)
    if not values:
        return "[]"
    inner = INDENT * (indent + 1)
    items = "".join(f"{inner}{pyrepr(v)},\n" for v in values)
    return f"[\n{items}{INDENT * indent}]"


def pydict(values: dict, indent: int = 0) -> str:
    """A dict literal with one item per line and a trailing comma (`{}` when empty)."""
    _require_defined(values)
    if not values:
        return "{}"
    inner = INDENT * (indent + 1)
    items = "".join(f"{inner}{pyrepr(k)}: {pyrepr(v)},\n" for k, v in values.items())
    return f"{{\n{items}{INDENT * indent}}}"


def pykwargs(kwargs: dict[str, Any], indent: int) -> str:
    """Keyword arguments, one `name=value,` per line at `indent` levels."""
    _require_defined(kwargs)
    for name in kwargs:
        if not (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)):
            raise ValueError(f"{name!r} cannot be a keyword argument.")
    return "".join(f"{INDENT * indent}{name}={pyrepr(v)},\n" for name, v in kwargs.items())


def import_block(lines: list[str]) -> str:
    """Import statements as `ruff check --select I` sorts them, without repeats.

    The standard library's first, then the others, a blank line between; in each,
    `import x` before `from x import y`, by module name; the names imported from one
    module are merged into one statement, constants, then classes, then the rest.
    """
    _require_defined(lines)
    plain: list[set[tuple[str, str]]] = [set(), set()]
    names: list[dict[str, set[str]]] = [{}, {}]
    for line in lines:
        (statement,) = ast.parse(line).body
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                plain[_section(alias.name)].add((alias.name.lower(), text))
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            imported = names[_section(statement.module)].setdefault(statement.module, set())
            for alias in statement.names:
                imported.add(alias.name + (f" as {alias.asname}" if alias.asname else ""))
        else:
            raise ValueError(f"{line!r} is not an absolute import statement.")
    sections = []
    for section in (0, 1):
        texts = [text for _, text in sorted(plain[section])]
        for module in sorted(names[section], key=str.lower):
            members = ", ".join(sorted(names[section][module], key=_member_order))
            texts.append(f"from {module} import {members}")
        if texts:
            sections.append("\n".join(texts))
    return "\n\n".join(sections)


def mdcode(value: Any) -> str:
    """`value` as a Markdown code span of its Python literal (safe for any text)."""
    text = pyrepr(value)
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def oneline(text: str) -> str:
    """`text` on one line: whitespace runs (newlines included) become one space."""
    return " ".join(str(text).split())


def number(value: float, digits: int = 4) -> str:
    """A metric for people to read: `digits` significant digits."""
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def make_environment() -> jinja2.Environment:
    """The Jinja2 environment for code templates."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters.update(
        pyrepr=pyrepr,
        pylist=pylist,
        pydict=pydict,
        pykwargs=pykwargs,
        mdcode=mdcode,
        oneline=oneline,
        number=number,
        import_block=import_block,
    )
    return environment


ENVIRONMENT = make_environment()


def render_files(spec: ExportSpec) -> dict[str, str]:
    """The export's text files by name: README, requirements, config and the scripts."""
    context = {
        "spec": spec,
        **_readme_facts(spec),
        **readme_phrases(spec),
        "split_code": split_code(spec),
    }
    files = {"config.json": render_config(spec)}
    for name, template in TEMPLATE_FILES.items():
        files[name] = ENVIRONMENT.get_template(template).render(context)
    return {name: files[name] for name in FILE_ORDER}


def render_parts(template: Path, **context: Any) -> dict[str, str | list[str]]:
    """The parts of the code template at `template`: each `{% set name %}` at its top
    level, rendered with `context` and the filters of the export's templates; a block's
    text without the blank lines around it, or a list of strings. Text outside the
    blocks, or a part of another type, is an error; the template's own helpers are named
    with a leading underscore and left out.

    This is how a model family (analysis/automl/candidates/) writes its own part of the
    exported code (`ModelCode`) from a template beside its module.
    """
    text = Path(template).read_text(encoding="utf-8")
    module = ENVIRONMENT.from_string(text).make_module(context)
    if str(module).strip():
        raise ValueError(f"{template} has text outside its {{% set %}} blocks.")
    parts: dict[str, str | list[str]] = {}
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str):
            parts[name] = value.strip("\n")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            parts[name] = list(value)
        else:
            raise ValueError(
                f"{template}: the part {name!r} is neither text nor a list of strings "
                "(name a helper of the template's own with a leading underscore)."
            )
    return parts


def render_config(spec: ExportSpec) -> str:
    """config.json: what was discovered, for people and tools; the scripts do not read it."""
    model = {
        "family": spec.family,
        "label": spec.family_label,
        "class": spec.code.model_class,
        "hyper_parameters": spec.code.hyper_parameters,
    }
    config = {
        "generated_by": "PROMISE",
        "generated_at": spec.generated_at,
        "title": spec.title,
        "task": spec.task,
        "target": spec.target,
        "classes": spec.classes,
        "metric": spec.metric,
        "score": spec.score,
        "holdout_metrics": spec.metrics,
        "model": model,
        "seed": spec.seed,
        "features": {
            "numeric": spec.numeric,
            "categorical": spec.categorical,
            "target_encoded": spec.high_cardinality,
            "datetime": spec.datetime,
            "datetime_parts": spec.datetime_parts,
            "dropped": spec.dropped,
            "model_inputs": spec.model_inputs,
        },
        "sample": spec.to_dict()["sample"],
        "fit_seconds": spec.fit_seconds,
        "python": spec.python_version,
        "packages": spec.packages,
        "reproducibility": reproducibility_record(spec),
    }
    return json.dumps(_json_safe(config), indent=2, ensure_ascii=False) + "\n"


_TASK_PHRASES = {
    "regression": "regression",
    "binary": "classification into two classes",
    "multiclass": "classification into several classes",
}
# Rough in-memory size of one text value in pandas (the object and its pointer).
_TEXT_BYTES = 64
_MIN_ROWS_TO_EXTRAPOLATE = 10_000


def _readme_facts(spec: ExportSpec) -> dict[str, Any]:
    """Figures the README states, estimated from what discovery measured."""
    rows = max(spec.sample.train_rows, 1)
    text_columns = len(spec.categorical) + len(spec.datetime)
    raw = 8 * len(spec.numeric) + _TEXT_BYTES * text_columns
    prepared = 8 * (len(spec.numeric) + len(spec.datetime) * len(spec.datetime_parts))
    prepared += 8 * len(spec.categorical)
    # The model inputs, plus about two copies made while the preprocessor is fitted.
    inputs = 3 * 8 * spec.model_inputs
    bytes_per_row = raw + prepared + inputs
    facts = {
        "task_phrase": _TASK_PHRASES[spec.task],
        "python_minor": ".".join(spec.python_version.split(".")[:2]),
        "gigabytes_per_million": bytes_per_row * 1e6 / 1e9,
        "model_megabytes": spec.model_bytes / 1e6,
        "model_gigabytes_per_million": spec.model_bytes / rows * 1e6 / 1e9,
        "seconds_per_million": None,
    }
    # Below this many rows, fixed start-up costs swamp the time per row.
    if spec.fit_seconds is not None and rows >= _MIN_ROWS_TO_EXTRAPOLATE:
        facts["seconds_per_million"] = spec.fit_seconds / rows * 1e6
    facts["model_size_sentence"] = spec.model_size_note.format(
        megabytes=number(facts["model_megabytes"], 3),
        gigabytes_per_million=number(facts["model_gigabytes_per_million"], 2),
        rows=spec.sample.train_rows,
    )
    return facts


def _json_safe(value: Any) -> Any:
    # JSON has no NaN or infinity; a metric that could not be computed is null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _require_defined(value: Any) -> None:
    # Filters receive undefined values instead of failing on them; converting a
    # StrictUndefined to text raises the UndefinedError that names what is missing.
    if isinstance(value, jinja2.Undefined):
        str(value)


def _string_literal(text: str) -> str:
    # ruff format prefers double quotes unless single quotes need fewer escapes.
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == quote:
            out.append("\\" + quote)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return quote + "".join(out) + quote


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _section(module: str) -> int:
    # 0: the standard library's, 1: any other (the export imports no local module here).
    return 0 if module.partition(".")[0] in sys.stdlib_module_names else 1


def _member_order(name: str) -> tuple[int, str]:
    # isort's order by type: CONSTANTS, then Classes, then functions and variables.
    bare = name.partition(" as ")[0]
    if bare.isupper() and len(bare) > 1:
        kind = 0
    elif bare[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, bare.lower()


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest
