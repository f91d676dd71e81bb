"""The package's architecture, checked: its layers and forbidden imports (import-linter contracts in
pyproject.toml), no import cycles between its modules, and DAG files that import only the parse-time layer.

Imports inside functions count everywhere but in the DAG files' rule, which is about parse time. Each rule
is also run against a small broken case, so a rule that stopped biting would fail here too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "probation_evidence"
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
#: What a DAG file may import from the package at module level (DAG parsing must stay fast).
DAG_IMPORTS_ALLOWED = (f"{PACKAGE}.orchestration", f"{PACKAGE}.settings")


# ------------------------------------------------------------------------------------------ the checks
def lint_imports(root: Path, plugins: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """import-linter with the contracts of `root`/pyproject.toml (or those ids), on the package in `plugins`."""
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", *(arg for contract in contracts for arg in ("--contract", contract))],
        cwd=root,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(plugins)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def import_graph(package: str) -> dict[str, set[str]]:
    """Every module of `package` and the package modules it imports (inside functions too, but not the
    imports under `if TYPE_CHECKING:`, which never run)."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def import_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(edges.get(module, ())):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in edges.get(module, ()):
                cycles.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges) + 100))
    try:
        for module in sorted(edges):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def module_level_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import that runs when the module is imported: not those inside
    function bodies (class bodies and `if`/`try`/`with` blocks at module level do run)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))


def dag_file_violations(source: str, name: str) -> list[str]:
    """The package imports of a DAG file, at module level, outside orchestration and settings."""
    found = []
    for line, imported in sorted(module_level_imports(ast.parse(source, name))):
        if imported.split(".")[0] != PACKAGE:
            continue
        allowed = any(imported == prefix or imported.startswith(prefix + ".") for prefix in DAG_IMPORTS_ALLOWED)
        if not allowed:
            found.append(f"{name}:{line}: {imported}")
    return found


# ------------------------------------------------------------------------------------ the project
def test_the_import_contracts_hold():
    result = lint_imports(ROOT, ROOT / "plugins")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def test_the_package_has_no_import_cycles():
    cycles = import_cycles(import_graph(PACKAGE))
    assert not cycles, "modules that import each other: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_dag_files_import_only_orchestration_and_settings_at_module_level():
    dag_files = sorted((ROOT / "dags").glob("*.py"))
    assert dag_files
    violations = [v for path in dag_files for v in dag_file_violations(path.read_text(), path.name)]
    assert not violations, "DAG files importing beyond orchestration and settings: " + ", ".join(violations)


# ------------------------------------------------------------------------------ each rule bites
@pytest.fixture(scope="module")
def package_copy(tmp_path_factory) -> Path:
    """A copy of the package's Python files and of pyproject.toml, to break on purpose."""
    root = tmp_path_factory.mktemp("architecture")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        ROOT / "plugins" / PACKAGE,
        root / "plugins" / PACKAGE,
        ignore=lambda folder, names: [n for n in names if not (n.endswith(".py") or Path(folder, n).is_dir())],
    )
    return root


BROKEN_EDGES = {
    # (module that gains an import, the import, the id of the contract that must then be broken)
    "a lower layer imports a higher one": (
        "sources/landing.py",
        "from probation_evidence.local import embedded",
        "layers",
    ),
    "a layer imports an independent one beside it": (
        "planner/queries.py",
        "from probation_evidence.ui import catalogue",
        "layers",
    ),
    "the pipeline imports the simulator, inside a function": (
        "packs/render.py",
        "def _uses_the_simulator():\n    from probation_evidence.simulator import truth\n\n    return truth",
        "pipeline-without-simulator",
    ),
    "sources import packs": (
        "sources/ingest.py",
        "from probation_evidence.packs import render",
        "sources-without-packs",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_EDGES))
def test_a_forbidden_import_breaks_its_contract(package_copy, case):
    module, statement, contract = BROKEN_EDGES[case]
    path = package_copy / "plugins" / PACKAGE / module
    original = path.read_text()
    assert lint_imports(package_copy, package_copy / "plugins", contract).returncode == 0, "kept before the edit"
    try:
        path.write_text(original + "\n\n" + statement + "\n")
        result = lint_imports(package_copy, package_copy / "plugins", contract)
    finally:
        path.write_text(original)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "1 broken" in result.stdout, result.stdout[-3000:]


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path, monkeypatch):
    package = tmp_path / "cycle_example"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from cycle_example import second\n")
    (package / "second.py").write_text(
        textwrap.dedent(
            """\
            def later():
                from cycle_example import first

                return first
            """
        )
    )
    (package / "third.py").write_text("from cycle_example import second\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(import_graph("cycle_example")) == [["cycle_example.first", "cycle_example.second"]]


def test_a_dag_file_importing_beyond_orchestration_at_module_level_is_found():
    source = textwrap.dedent(
        """\
        from airflow.sdk import dag

        from probation_evidence import settings
        from probation_evidence.orchestration.defaults import DEFAULT_ARGS
        from probation_evidence.packs import publish

        if settings:
            import probation_evidence.sources.loading


        def task():
            from probation_evidence.sources import ingest
        """
    )
    assert dag_file_violations(source, "example.py") == [
        "example.py:5: probation_evidence.packs.publish",
        "example.py:8: probation_evidence.sources.loading",
    ]
