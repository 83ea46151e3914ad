"""The architecture, checked from the source: the import graph of ``recsys`` is one-way.

Every module under ``recsys/`` is parsed with ``ast`` (nothing is imported), its imports are resolved (absolute,
relative, inside functions, under ``if TYPE_CHECKING:``, and ``importlib.import_module("recsys....")`` with a literal
name) into edges between modules, and the tests below check that graph:

* no import cycle, type-only imports included (a cycle through them still couples the layers);
* the layering in ``RULES``: which layer must not import which;
* no function-level (lazy) import of a ``recsys`` module outside the CLI modules, which alone may delay a command's
  heavy imports until it runs;
* every package directory has an ``__init__.py``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "recsys"
# Folders under recsys/ whose .py files are data, not modules: Alembic loads its scripts by path.
DATA_DIRS = ("catalog/migrations",)


# --- the architecture ------------------------------------------------------------------------------------------------
def is_cli(module: str) -> bool:
    """Command-line entry points: they sit above everything and may import a command's modules lazily."""
    return module in {"recsys.cli", "recsys.__main__", "recsys.search_cli"} or module.endswith(".cli")


@dataclass(frozen=True)
class Layer:
    """Modules under any of ``prefixes`` (a prefix names a module and everything below it), minus those under
    ``but``, and minus the CLI modules when ``but_cli``."""

    prefixes: tuple[str, ...]
    but: tuple[str, ...] = ()
    but_cli: bool = False

    def __contains__(self, module: str) -> bool:
        if self.but_cli and is_cli(module):
            return False
        return under(module, self.prefixes) and not under(module, self.but)

    def __str__(self) -> str:
        excluded = [*self.but, *(["the CLI modules"] if self.but_cli else [])]
        return " | ".join(self.prefixes) + (f" (but not {', '.join(excluded)})" if excluded else "")


def under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def pkgs(*names: str) -> tuple[str, ...]:
    return tuple(f"recsys.{n}" for n in names)


# importers                                                   -> what they must not import
RULES: tuple[tuple[Layer, tuple[str, ...]], ...] = (
    # the UI is the top: nothing in the package imports it but the CLI's `serve` (and app.py, outside the package)
    (Layer(("recsys",), but=pkgs("ui"), but_cli=True), pkgs("ui")),
    # the service is the facade under the UI and the CLI
    (Layer(("recsys",), but=pkgs("ui", "service"), but_cli=True), pkgs("service")),
    (Layer(pkgs("search")), pkgs("training", "evaluation")),
    (Layer(pkgs("ranking")), pkgs("search", "training", "evaluation")),
    (Layer(pkgs("recommend")), pkgs("search", "training", "evaluation")),
    (Layer(pkgs("encoders")), pkgs("training", "search", "ranking", "evaluation")),
    (Layer(pkgs("index")), pkgs("catalog", "encoders", "search", "training", "ranking")),
    (Layer(pkgs("catalog")), pkgs("encoders", "search", "training", "ranking", "index", "recommend", "evaluation")),
    # accounts sit beside the catalog (their table lives in its database): who someone is, not what they may do
    (Layer(pkgs("accounts")), pkgs("encoders", "search", "training", "ranking", "index", "recommend", "evaluation")),
    (Layer(pkgs("catalog")), pkgs("accounts")),
)


# --- the import graph ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int
    lazy: bool  # inside a function
    type_only: bool  # under ``if TYPE_CHECKING:``
    statement: str

    def where(self) -> str:
        flags = [f for f, on in (("lazy", self.lazy), ("TYPE_CHECKING", self.type_only)) if on]
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.statement}{suffix}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_data(path: Path) -> bool:
    rel = path.relative_to(PACKAGE_DIR).as_posix()
    return any(rel == d or rel.startswith(d + "/") for d in DATA_DIRS)


def module_files() -> dict[str, Path]:
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts and not is_data(p))
    return {module_name(p): p for p in files}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, lazy: bool = False, type_only: bool = False) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node below ``node`` with whether it sits inside a function and under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        yield child, lazy, type_only
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, True, type_only)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield stmt, lazy, True
                yield from _walk(stmt, lazy, True)
            for stmt in child.orelse:
                yield stmt, lazy, type_only
                yield from _walk(stmt, lazy, type_only)
        else:
            yield from _walk(child, lazy, type_only)


def _import_module_literal(node: ast.AST) -> str | None:
    """``importlib.import_module("name")`` or ``import_module("name")`` with a literal absolute name."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    arg = node.args[0]
    if name == "import_module" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value if not arg.value.startswith(".") else None
    return None


def resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module ``name`` names, or the nearest enclosing one that exists; None outside ``recsys``."""
    if not under(name, ("recsys",)):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: Mapping[str, Path]) -> list[Edge]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    edges: list[Edge] = []
    seen: set[tuple[str, int]] = set()

    def add(target_name: str, node: ast.AST, lazy: bool, type_only: bool) -> None:
        target = resolve(target_name, modules)
        if target is not None and (target, node.lineno) not in seen:
            seen.add((target, node.lineno))
            statement = (ast.get_source_segment(source, node) or "").split("\n")[0].strip()
            edges.append(Edge(module, target, path, node.lineno, lazy, type_only, statement))

    for node, lazy, type_only in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, lazy, type_only)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                if not base:
                    raise AssertionError(f"{path}:{node.lineno}: relative import goes above the package")
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                full = f"{stem}.{alias.name}"
                add(full if full in modules else stem, node, lazy, type_only)
        elif (name := _import_module_literal(node)) is not None:
            add(name, node, lazy, type_only)
    return edges


@cache
def graph() -> tuple[dict[str, Path], tuple[Edge, ...]]:
    modules = module_files()
    edges = [e for m, p in modules.items() for e in imports_of(m, p, modules)]
    return modules, tuple(edges)


# --- cycles ----------------------------------------------------------------------------------------------------------
def strongly_connected(nodes: Iterable[str], succ: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def shortest_cycle(start: str, members: set[str], succ: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest path start -> ... -> start inside ``members`` (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(succ.get(node, ())):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child in members and child not in parent:
                parent[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is on no cycle")


def cycles(nodes: Iterable[str], succ: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle through the first module of every strongly connected component that has a cycle."""
    found = []
    for component in strongly_connected(nodes, succ):
        if len(component) > 1 or component[0] in succ.get(component[0], ()):
            found.append(shortest_cycle(component[0], set(component), succ))
    return found


def successors(edges: Iterable[Edge]) -> dict[str, set[str]]:
    succ: dict[str, set[str]] = {}
    for e in edges:
        succ.setdefault(e.source, set()).add(e.target)
    return succ


# --- tests -----------------------------------------------------------------------------------------------------------
def test_cycle_finder_on_a_toy_graph() -> None:
    succ = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}, "g": {"h"}, "h": {"g"}}
    assert sorted(map(sorted, (c[:-1] for c in cycles(sorted(succ), succ)))) == [["a", "b", "c"], ["e"], ["g", "h"]]
    assert cycles("abcdf", succ) == [["a", "b", "c", "a"]]
    assert cycles("xyz", {"x": {"y"}, "y": {"z"}, "z": set()}) == []
    long_chain = {str(i): {str(i + 1)} for i in range(5000)}  # deep graphs need no recursion
    assert cycles(long_chain, long_chain) == []
    long_chain["5000"] = {"0"}
    assert len(cycles(long_chain, long_chain)[0]) == 5002


def test_the_graph_is_plausible() -> None:
    modules, edges = graph()
    assert len(modules) > 100, f"only {len(modules)} modules found under {PACKAGE_DIR}"
    assert {"recsys", "recsys.cli", "recsys.config", "recsys.catalog.models"} <= set(modules)
    assert len(edges) > len(modules), f"only {len(edges)} import edges among {len(modules)} modules"
    assert any(e.source == "recsys.cli" and e.target == "recsys.config" for e in edges)


def test_no_import_cycles() -> None:
    modules, edges = graph()
    succ = successors(edges)
    found = cycles(sorted(modules), succ)
    report = []
    for component in (c for c in strongly_connected(sorted(modules), succ) if len(c) > 1 or c[0] in succ.get(c[0], ())):
        members = set(component)
        cycle = shortest_cycle(component[0], members, succ)
        report.append(f"cycle: {' -> '.join(cycle)}")
        if len(component) > len(cycle) - 1:
            report.append(f"  part of a tangle of {len(component)} modules: {', '.join(component)}")
        report.append("  imports inside it (cut one per cycle):")
        report += [f"    {e.where()}" for e in edges if e.source in members and e.target in members]
    if found:
        pytest.fail(f"{len(found)} import cycle(s) among recsys modules:\n" + "\n".join(report), pytrace=False)


def test_layers_import_only_downwards() -> None:
    _, edges = graph()
    offenders = []
    for layer, forbidden in RULES:
        bad = [e for e in edges if e.source in layer and under(e.target, forbidden)]
        if bad:
            offenders.append(f"{layer} must not import {', '.join(forbidden)}:")
            offenders += [f"    {e.where()}" for e in bad]
    if offenders:
        pytest.fail("imports against the layering:\n" + "\n".join(offenders), pytrace=False)


def test_no_lazy_imports_of_recsys_outside_the_cli() -> None:
    _, edges = graph()
    lazy = [e for e in edges if e.lazy and not is_cli(e.source)]
    if lazy:
        pytest.fail(
            f"{len(lazy)} function-level import(s) of recsys modules (import at the top of the module; only the CLI "
            "modules delay imports):\n" + "\n".join(f"    {e.where()}" for e in lazy),
            pytrace=False,
        )


def test_every_package_directory_has_an_init() -> None:
    folders = {p.parent for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts and not is_data(p)}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    if missing:
        pytest.fail(f"package directories without __init__.py: {', '.join(missing)}", pytrace=False)
