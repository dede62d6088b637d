"""The package's import graph (read with ``ast``, imports inside functions and ``TYPE_CHECKING``
included) has no circles, per module and per sub-package, and follows the data flow:
data -> benchmarks -> optimizers -> runner -> trial log -> export -> analysis."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "nashpo"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports (``from pkg import submodule`` names the submodule)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                out.add(target)
    return out


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def unit(name: str) -> str:
    """``nashpo.X`` for a top-level module, or the sub-package ``nashpo.X`` of a module inside it."""
    return ".".join(name.split(".")[:2])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_graph_is_read():
    assert "nashpo.runner.loop" in GRAPH["nashpo.runner.chunk"]
    assert "nashpo.benchmarks" in GRAPH["nashpo.objectives"]
    assert len(MODULES) > 40


def test_no_import_circle_between_modules():
    assert find_cycle(GRAPH) is None


def test_no_import_circle_between_subpackages():
    units: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        units.setdefault(unit(name), set()).update(unit(t) for t in targets if unit(t) != unit(name))
    assert find_cycle(units) is None


@pytest.mark.parametrize(
    ("lower", "forbidden"),
    [
        ("nashpo.data", ("nashpo.benchmarks", "nashpo.optimizers", "nashpo.runner", "nashpo.export", "nashpo.analysis")),
        ("nashpo.benchmarks", ("nashpo.optimizers", "nashpo.runner", "nashpo.export", "nashpo.analysis")),
        ("nashpo.optimizers", ("nashpo.benchmarks", "nashpo.data", "nashpo.runner", "nashpo.export", "nashpo.analysis")),
        ("nashpo.runner", ("nashpo.export", "nashpo.analysis", "nashpo.cli")),
        ("nashpo.export", ("nashpo.optimizers", "nashpo.runner", "nashpo.analysis")),
        ("nashpo.analysis", ("nashpo.optimizers", "nashpo.runner")),
    ],
)
def test_data_flow(lower, forbidden):
    """No module of ``lower`` reaches (directly or through others) a module of a later stage."""
    for name in (n for n in GRAPH if unit(n) == lower):
        bad = sorted(t for t in reachable(name) if unit(t) in forbidden)
        assert not bad, f"{name} reaches {bad}"
