"""The project's import graph, read from the source with `ast` (nothing is imported to find it).

Shared by the layout tests (tests/test_layout.py, tests/policies/test_policies_layout.py,
tests/verify/test_verify_layout.py). Every import counts, wherever it sits: inside a function (a
lazy import hides a cycle from the interpreter only until the day the function is called at import
time) and under `if TYPE_CHECKING:` (the annotation still says the module needs the other one).
"""
from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path = REPO) -> str:
    """infra/spec/loader.py -> infra.spec.loader; infra/spec/__init__.py -> infra.spec."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(packages: Iterable[str], root: Path = REPO) -> dict[str, Path]:
    """Every module of the given top-level packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def import_sites(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import in `name`, with absolute names: relative imports are
    resolved against the module's package and `from pkg import submodule` counts pkg.submodule too
    when that is a module in `known` (pkg itself is imported as well: its __init__ runs first)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    sites: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            sites += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            sites.append((target, node.lineno))
            sites += [(f"{target}.{alias.name}", node.lineno) for alias in node.names
                      if f"{target}.{alias.name}" in known]
    return sorted(sites, key=lambda site: (site[1], site[0]))


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` imports (absolute names, project or not)."""
    return {target for target, _ in import_sites(name, path, known)}


def _with_parents(name: str, target: str, known: set[str], parents: bool = True) -> set[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first, unless the importer is inside
    that package already (then the package is being initialised anyway): those count as deps.
    With parents=False only the imported module itself counts."""
    parts = target.split(".")
    candidates = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] if parents else [target]
    return {c for c in candidates if c in known and c != name and not name.startswith(c + ".")}


def graph_of(found: Mapping[str, Path], parents: bool = True) -> dict[str, set[str]]:
    """module -> the modules of `found` it depends on (its imports and, unless parents=False, their
    parent packages)."""
    known = set(found)
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        deps: set[str] = set()
        for target in imports(name, path, known):
            deps |= _with_parents(name, target, known, parents)
        graph[name] = deps
    return graph


def graph(packages: Iterable[str], root: Path = REPO, parents: bool = True) -> dict[str, set[str]]:
    """The import graph among the modules of the given top-level packages."""
    return graph_of(modules(packages, root), parents)


def edges_with_lines(found: Mapping[str, Path]) -> dict[str, list[tuple[str, int]]]:
    """Like graph_of, but each dependency with the line of the import that causes it."""
    known = set(found)
    out: dict[str, list[tuple[str, int]]] = {}
    for name, path in found.items():
        seen: dict[str, int] = {}
        for target, line in import_sites(name, path, known):
            for dep in _with_parents(name, target, known):
                seen.setdefault(dep, line)
        out[name] = sorted(seen.items(), key=lambda item: (item[1], item[0]))
    return out


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)

