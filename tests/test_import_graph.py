"""The import graph of the package (issue 24): layers run one way and nothing imports in a circle.

A static walk over the source (``ast``), every ``import`` statement included, also those inside
functions (a function-level import is still an edge: it runs when the function does). An import
``from X import name`` is an edge to the module ``X.name`` when that module exists, else to ``X``.
Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``; those implicit edges are not
counted (Python resolves a package's partially initialised ``__init__`` without harm).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("data_schema", "analysis", "pipelines")
LAYER = {"data_schema": 0, "analysis": 1, "pipelines": 2}
"""data_schema <- analysis <- pipelines: a module may import its own layer or one below."""

REPORT = "pipelines.report"
REPORT_USERS = ("pipelines.report", "pipelines.cli")
"""The report layer and the CLI command that renders it; no stage module may import the report
layer (changing a document's language must not change a stage's inputs)."""

GENERATOR = "pipelines.synthetic"
GENERATOR_MAY_IMPORT = ("pipelines.synthetic", "data_schema")
"""The synthetic generator is a leaf: raw-data generation uses data_schema and itself only (the
results layer, analysis.star2022, pipelines.reproduction and the calibration live above it)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(importer: str, tree: ast.AST) -> set[str]:
    known = modules()
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, node)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        for name in names:
            while name and name not in known:  # ``import a.b.c`` of a non-module attribute
                name = name.rpartition(".")[0]
            if name and name != importer:
                found.add(name)
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the package modules it imports."""
    return {
        name: frozenset(_targets(name, ast.parse(path.read_text(encoding="utf-8"))))
        for name, path in modules().items()
    }


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def cycles(g: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_walk_finds_the_package():
    g = graph()
    assert {
        "data_schema.tables",
        "analysis.cox",
        "pipelines.cli",
        "pipelines.synthetic.dynamics",
    } <= set(g)
    # a module-level and a function-level import are both seen
    assert "pipelines.synthetic.design" in g["pipelines.synthetic.dynamics"]
    assert "pipelines.calibration.expected" in g["pipelines.cli"]


def test_cycle_finder_finds_a_cycle():
    g = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert cycles(g) == [["a", "b", "c"]]


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_layers_import_downward_only():
    bad = [
        f"{a} imports {b}"
        for a, targets in graph().items()
        for b in targets
        if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]
    ]
    assert not bad, "imports against the layers data_schema <- analysis <- pipelines: " + "; ".join(
        sorted(bad)
    )


def test_no_stage_imports_the_report_layer():
    bad = [
        f"{a} imports {b}"
        for a, targets in graph().items()
        for b in targets
        if _within(b, REPORT) and not any(_within(a, user) for user in REPORT_USERS)
    ]
    assert not bad, "the report layer imported outside it: " + "; ".join(sorted(bad))


def test_synthetic_generator_is_a_leaf():
    bad = [
        f"{a} imports {b}"
        for a, targets in graph().items()
        if _within(a, GENERATOR)
        for b in targets
        if not any(_within(b, ok) for ok in GENERATOR_MAY_IMPORT)
    ]
    assert not bad, "the synthetic generator imports above itself: " + "; ".join(sorted(bad))
