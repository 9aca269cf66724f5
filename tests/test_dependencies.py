"""Declared dependencies match the imports: nothing imported that pyproject.toml does not declare,
nothing declared that no code uses.

The package (``analysis``, ``pipelines``, ``data_schema`` and the Python chunks of the Quarto
documents in ``reports/``) may import only the standard library, itself and
``[project] dependencies``; ``tests/`` and ``benchmarks/`` may also import the ``dev`` extra.
Import names are mapped to distributions with :func:`importlib.metadata.packages_distributions`,
so the check runs in the installed environment (the lock or the lowest-direct lock).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("analysis", "pipelines", "data_schema")
DEV_DIRS = ("tests", "benchmarks")
# Declared for a use that is not an import statement.
USED_WITHOUT_IMPORT = {
    "ipykernel": "the Jupyter kernel that renders the reports (python -m ipykernel_launcher)",
    "pytest-xdist": "pytest plugin (make test: -n 2 --dist loadgroup)",
    "mypy": "command-line type checker (make typecheck)",
    "ruff": "command-line linter (make lint)",
}
# Runtime dependencies that the package does not import yet.
RUNTIME_NOT_YET_IMPORTED: dict[str, str] = {}
_CHUNK = re.compile(r"^```\{python[^}]*\}\n(.*?)^```", re.S | re.M)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    assert match, f"pyproject.toml: cannot read the requirement {req!r}"
    return _norm(match.group(1))


def _with_providers(names: set[str]) -> set[str]:
    """Add the requirements of meta-distributions that ship no module themselves (typer 0.12
    is ``typer-slim`` plus extras), so their modules count as declared."""
    shipping = {_norm(d) for ds in metadata.packages_distributions().values() for d in ds}
    out = set(names)
    for name in names:
        if name in shipping:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        out.update(_requirement_name(r) for r in requires if "extra ==" not in r)
    return out


def _declared() -> tuple[set[str], set[str]]:
    """Normalised names of the runtime and the dev requirements (with meta-package providers)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    dev = {_requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    return _with_providers(runtime), _with_providers(dev)


def _imported_names(source: str) -> set[str]:
    """Top-level names of absolute imports, also inside functions, plus ``importorskip("x")``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("importorskip", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value.split(".")[0])
    return names


def _sources(dirs: tuple[str, ...]) -> dict[Path, str]:
    out = {}
    for d in dirs:
        for path in sorted((ROOT / d).rglob("*.py")):
            out[path] = path.read_text(encoding="utf-8")
    return out


def _local_modules() -> set[str]:
    """Modules of this repository (packages and test helpers imported by their bare name)."""
    local = set(PACKAGE_DIRS) | set(DEV_DIRS)
    for d in PACKAGE_DIRS + DEV_DIRS:
        for path in (ROOT / d).rglob("*.py"):
            local.add(path.stem)
            local.update(p.name for p in path.relative_to(ROOT).parents if p.name)
    return local


def _third_party(sources: dict[Path, str]) -> dict[str, set[str]]:
    """Distribution (normalised name) -> files importing it; unknown modules as ``?module``."""
    local = _local_modules()
    dists = metadata.packages_distributions()
    out: dict[str, set[str]] = {}
    for path, text in sources.items():
        for name in _imported_names(text):
            if name in sys.stdlib_module_names or name in local or name == "__future__":
                continue
            for dist in dists.get(name, [f"?{name}"]):
                out.setdefault(_norm(dist), set()).add(str(path.relative_to(ROOT)))
    return out


def _package_sources() -> dict[Path, str]:
    out = _sources(PACKAGE_DIRS)
    for qmd in sorted((ROOT / "reports").glob("*.qmd")):
        out[qmd] = "\n".join(_CHUNK.findall(qmd.read_text(encoding="utf-8")))
    return out


def test_package_imports_only_runtime_dependencies():
    runtime, _ = _declared()
    used = _third_party(_package_sources())
    undeclared = {d: sorted(f)[:3] for d, f in used.items() if d not in runtime}
    assert not undeclared, (
        "imported by the package but not in [project] dependencies of pyproject.toml "
        f"(distribution: first files): {undeclared}"
    )


def test_tests_and_benchmarks_import_only_declared_dependencies():
    runtime, dev = _declared()
    used = _third_party(_sources(DEV_DIRS))
    undeclared = {d: sorted(f)[:3] for d, f in used.items() if d not in runtime | dev}
    assert not undeclared, (
        "imported by tests/benchmarks but declared neither in [project] dependencies nor in "
        f"the dev extra (distribution: first files): {undeclared}"
    )


def test_every_declared_dependency_is_used():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]} - set(USED_WITHOUT_IMPORT)
    dev = {_requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    package = set(_third_party(_package_sources()))
    everywhere = package | set(_third_party(_sources(DEV_DIRS)))
    unused = sorted(
        d
        for d in (runtime | dev) - set(USED_WITHOUT_IMPORT)
        if not _with_providers({d}) & everywhere
    )
    assert not unused, f"declared in pyproject.toml but imported nowhere: {unused}"
    test_only = sorted(
        d for d in runtime - set(RUNTIME_NOT_YET_IMPORTED) if not _with_providers({d}) & package
    )
    assert not test_only, (
        f"runtime dependencies used only by tests/benchmarks (move to dev): {test_only}"
    )


def test_the_scan_sees_imports():
    """The walker itself: nested, aliased, from-imports and importorskip are found."""
    src = (
        "import os.path as p\nfrom numpy import linalg\ndef f():\n    import scipy.stats\n"
        "pytest.importorskip('stepmix')\nfrom . import sibling\n"
    )
    assert _imported_names(src) == {"os", "numpy", "scipy", "stepmix"}
    used = _third_party(_package_sources())
    assert {"numpy", "pandas", "pandera"} <= set(used)
