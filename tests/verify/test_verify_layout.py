"""verify's module layout: imports go one way (no cycle, checks and probes import only the
primitives), and the registries are filled from explicit lists, never by import side effects."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def module_imports(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its body (function-level imports count:
    they are how cycles hide). `from pkg import name` counts pkg.name when that is a module."""
    files = {}
    for pkg in packages:
        for f in (root / pkg).rglob("*.py"):
            parts = list(f.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            files[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    graph: dict[str, set[str]] = {}
    for mod, (f, is_pkg) in files.items():
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in files)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here[:len(here) - (node.level - 1)]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    edges.add(sub if sub in files else base)
        graph[mod] = {e for e in edges if e in files and e != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_verify_modules():
    graph = module_imports(REPO, ("verify",))
    assert "verify.checks.spf" in graph and "verify.engine" in graph
    assert cycles(graph) == []


def test_checks_and_probes_import_primitives_only():
    graph = module_imports(REPO, ("verify",))
    above = {"verify.engine", "verify.runner", "verify.audit", "verify.cli", "verify.render",
             "verify.checks", "verify.probes"}
    for mod, deps in graph.items():
        if mod.startswith(("verify.checks.", "verify.probes.")):
            assert not deps & above, (mod, sorted(deps & above))
    for low in ("verify.registry", "verify.runner", "verify.model"):
        assert not {d for d in graph[low] if d.startswith(("verify.checks", "verify.probes"))}, low


def _members(mod, attr: str) -> list:
    return [f for _, f in inspect.getmembers(mod, inspect.isfunction)
            if f.__module__ == mod.__name__ and hasattr(f, attr)]


def test_every_declared_check_and_probe_is_listed():
    """A judge declared with @check or a probe with @probe but missing from its module's tuple would
    silently never run: the tuples are the registry."""
    from verify import checks, probes

    for m in checks.CHECK_MODULES:
        assert {f.check for f in _members(m, "check")} == set(m.CHECKS), m.__name__
    for m in probes.PROBE_MODULES:
        assert set(_members(m, "probe_kind")) == set(m.PROBES), m.__name__
    found = {p.stem for p in (REPO / "verify" / "checks").glob("*.py")} - {"__init__"}
    listed = {m.__name__.rsplit(".", 1)[1] for m in checks.CHECK_MODULES}
    helpers = {n for n in found - listed if not hasattr(importlib.import_module(f"verify.checks.{n}"), "CHECKS")}
    assert found - helpers == listed, "a check module is missing from CHECK_MODULES"


TEST_ONLY = ("pytest", "trustme", "hypothesis", "worldkit", "stackfiles", "hermetic")


def test_shipped_packages_hold_no_test_harness():
    """What the wheel ships (pyproject: packages.find include infra*, policies*, verify*) has no
    `testing` package and no module importing test-only code: users install `.`, not `.[test]`."""
    import setuptools

    packages = setuptools.find_packages(str(REPO), include=["infra*", "policies*", "verify*"])
    assert "verify" in packages and "verify.checks" in packages
    assert not [p for p in packages if "testing" in p.split(".") or "tests" in p.split(".")]
    for pkg in packages:
        for f in (REPO / pkg.replace(".", "/")).glob("*.py"):
            for node in ast.walk(ast.parse(f.read_text(), str(f))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                bad = [n for n in names if n.split(".")[0] in TEST_ONLY]
                assert not bad, f"{f.relative_to(REPO)} imports {bad}"
