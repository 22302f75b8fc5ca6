"""No package imports in a cycle; queries/ also hides no import inside a function, and its catalogue's records
(queries/catalog.py) are a leaf."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "queries"
PACKAGES = ("app", "ingest", "queries", "sample_data", "store")


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def _imports(tree: ast.Module, modules: set[str], prefix: tuple[str, ...] = ("queries",)) -> tuple[set[str], list[int]]:
    """The modules of the `prefix` packages imported at module level (TYPE_CHECKING blocks left out), and lines of
    such imports made inside functions. `from package import submodule` depends on the submodule, not the package."""
    top: set[str] = set()
    nested: list[int] = []

    def names(node: ast.Import | ast.ImportFrom) -> set[str]:
        if isinstance(node, ast.Import):
            return {a.name for a in node.names if a.name.split(".")[0] in prefix}
        if not (node.module and node.module.split(".")[0] in prefix):
            return set()
        subs = {f"{node.module}.{a.name}" for a in node.names} & modules
        return subs | ({node.module} if len(subs) < len(node.names) else set())

    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            top |= names(node)
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            nested += [n.lineno for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom) and names(n)]
    return top, nested


def test_queries_import_no_cycle_and_nothing_inside_functions() -> None:
    files = {_module(p): p for p in QUERIES.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for name, path in files.items():
        top, nested = _imports(ast.parse(path.read_text(encoding="utf-8")), set(files))
        graph[name] = {m for m in top if m in files and m != name}
        hidden += [f"{path.name}:{line}" for line in nested]
    assert not hidden, f"imports of queries modules inside functions: {hidden}"
    assert graph["queries.catalog"] == set(), graph["queries.catalog"]
    _no_cycle(graph)


def _no_cycle(graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_no_package_imports_in_a_cycle_at_module_level() -> None:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        top, _ = _imports(ast.parse(path.read_text(encoding="utf-8")), set(files), PACKAGES)
        graph[name] = {m for m in top if m in files and m != name}
    assert len(graph) > 120
    _no_cycle(graph)
