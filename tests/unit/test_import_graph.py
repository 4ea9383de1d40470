"""Dependencies point one way: no two modules of ours import each other, even inside a function."""

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("analysis", "exporters")


def _modules() -> dict[str, tuple[Path, bool]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = path.name == "__init__.py"
            modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _imports(name: str, is_package: bool, node: ast.AST, modules) -> set[str]:
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1] if node.level else []
        module = ".".join(base + ([node.module] if node.module else []))
        # `from package import submodule` depends on the submodule, not the package.
        targets = [
            f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
            for alias in node.names
        ]
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: set().union(
            *(
                _imports(name, is_package, node, modules)
                for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom))
            )
        )
        for name, (path, is_package) in modules.items()
    }


def test_it_has_no_import_cycle():
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"These modules import each other: {' -> '.join(exc.args[1])}")


def test_the_services_never_import_the_tasks():
    graph = import_graph()
    services = [name for name in graph if name.split(".")[:2] == ["analysis", "services"]]
    assert services and not [name for name in services if "analysis.tasks" in graph[name]]
