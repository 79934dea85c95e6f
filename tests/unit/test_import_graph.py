"""The project's modules import each other without circles, and the model never imports the experiments.

A circle between two modules that only works because one side imports under ``if TYPE_CHECKING:``
or inside a function is still a circle: the two modules cannot be understood, tested or moved
apart. So the graph here counts every import statement, wherever it stands. Edges go to the module
named (``from sim.rules import policy`` -> ``sim.rules.policy``; ``from sim.config import X`` ->
``sim.config``); the implicit import of a parent package's ``__init__`` is not an edge, since it is
Python's doing rather than a dependency the module chose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sim", "experiments")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to: itself, or its closest enclosing project module."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules imported anywhere in ``path`` (top level, ``TYPE_CHECKING`` blocks, functions)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # ``from package import submodule`` imports the submodule; otherwise the names are
            # attributes of ``stem`` itself.
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                       for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target, modules)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]], within: str) -> list[str] | None:
    """One circle among the modules of package ``within`` (as ``a -> b -> ... -> a``), or None."""
    nodes = {m for m in graph if m == within or m.startswith(f"{within}.")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node] & nodes):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(nodes):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_every_kind_of_import(graph: dict[str, set[str]]) -> None:
    """Guard for the parser: it finds the imports the model is known to make."""
    assert "sim.config" in graph["sim.model"]
    assert "sim.rules.policy" in graph["sim.model"]
    assert "sim.state" in graph["sim.rules.policy"]
    assert "experiments.engine.stats" in graph["experiments.engine.render"]  # from ... import stats


def test_no_import_cycle_in_sim(graph: dict[str, set[str]]) -> None:
    cycle = find_cycle(graph, "sim")
    assert cycle is None, "import cycle in sim/: " + " -> ".join(cycle or [])


def test_no_import_cycle_in_experiments(graph: dict[str, set[str]]) -> None:
    cycle = find_cycle(graph, "experiments")
    assert cycle is None, "import cycle in experiments/: " + " -> ".join(cycle or [])


def test_sim_never_imports_experiments(graph: dict[str, set[str]]) -> None:
    offending = sorted(f"{m} -> {t}" for m, targets in graph.items() if m.split(".")[0] == "sim"
                       for t in targets if t.split(".")[0] == "experiments")
    assert not offending, "sim/ imports experiments/: " + ", ".join(offending)


# experiments/ in wings: the engine knows no app; an app uses the engine and the model, and another
# app only through what that app publishes for reuse (the comparison report names the top drivers
# of the shipped sensitivity analysis).
ENGINE = "experiments.engine"
APPS = ("experiments.compare", "experiments.frontier", "experiments.calibration", "experiments.exploration",
        "experiments.validation", "experiments.shipped")
SHARED_ACROSS_APPS = {"experiments.exploration.drivers"}


def _wing(module: str) -> str | None:
    return next((w for w in (ENGINE, *APPS) if module == w or module.startswith(f"{w}.")), None)


def test_the_engine_imports_no_app(graph: dict[str, set[str]]) -> None:
    offending = sorted(f"{m} -> {t}" for m, targets in graph.items() if _wing(m) == ENGINE
                       for t in targets if _wing(t) in APPS)
    assert not offending, "the engine imports an app: " + ", ".join(offending)


def test_apps_import_each_other_only_through_shared_modules(graph: dict[str, set[str]]) -> None:
    offending = sorted(f"{m} -> {t}" for m, targets in graph.items() if _wing(m) in APPS
                       for t in targets if _wing(t) in APPS and _wing(t) != _wing(m)
                       and t not in SHARED_ACROSS_APPS)
    assert not offending, "an app imports another app's internals: " + ", ".join(offending)


def test_every_module_of_experiments_sits_in_a_wing(graph: dict[str, set[str]]) -> None:
    loose = sorted(m for m in graph if m.startswith("experiments.") and _wing(m) is None)
    assert not loose, "modules outside engine/ and the app packages: " + ", ".join(loose)


def test_find_cycle_reports_a_circle() -> None:
    graph = {"sim.a": {"sim.b"}, "sim.b": {"sim.c"}, "sim.c": {"sim.a"}, "sim.d": set()}
    assert find_cycle(graph, "sim") == ["sim.a", "sim.b", "sim.c", "sim.a"]
    assert find_cycle({"sim.a": {"sim.b"}, "sim.b": set()}, "sim") is None
