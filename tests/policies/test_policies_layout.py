"""The shape of the policies room: explicit registries, no import cycles, no reach into rooms above it.

Imports are read from the source by tests/importgraph.py (nothing is imported to find them),
including imports inside functions: a lazy import hides a cycle from the interpreter only until the
day the function is called at import time.
"""
from __future__ import annotations

import ast
import importlib.metadata
import sys

import pytest

import importgraph

pytestmark = pytest.mark.unit

ROOT = importgraph.REPO
ROOM = ROOT / "policies"
# Rooms and modules the pack must never import: verify/ judges after apply and sits beside it,
# the command line sits above every room (DESIGN.md).
FORBIDDEN = ("verify", "infra.cli")


def _modules():
    return importgraph.modules(["policies"])


def _graph() -> dict[str, set[str]]:
    return importgraph.graph(["policies"])


def test_relative_imports_are_resolved():
    graph = _graph()
    assert "policies.rules.tls" in graph["policies.rules"]
    assert "policies.props" in graph["policies.rules.tls"]
    assert "policies.rules.secretrules" in graph["policies.scan"]


def test_no_import_cycle_among_policies_modules():
    cycles = importgraph.cycles(_graph())
    assert not cycles, "import cycles among policies modules: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_policies_never_import_verify_or_the_command_line():
    modules = _modules()
    bad = sorted((name, target) for name, path in modules.items() for target in importgraph.imports(name, path, set(modules))
                 if any(target == f or target.startswith(f + ".") for f in FORBIDDEN))
    assert not bad, f"policies import a room above them: {bad}"


def test_no_module_name_under_policies_shadows_a_library():
    # The engine runs policies/__main__.py with policies/ first on sys.path: a top-level module
    # there shadows an installed distribution or the standard library of the same name. Names
    # inside policies/rules/ cannot shadow anything, but keep them unambiguous all the same.
    installed = set(importlib.metadata.packages_distributions()) | set(sys.stdlib_module_names)
    names = {name.rsplit(".", 1)[-1] for name in _modules()} - {"policies", "__main__"}
    assert not names & installed, sorted(names & installed)


def test_every_rule_module_lists_all_its_rules_and_only_them():
    from policies.registry import ResourceRule, StackRule
    from policies.rules import ALL, MODULES

    for module in MODULES:
        defined = [obj for obj in vars(module).values() if isinstance(obj, (ResourceRule, StackRule))]
        assert sorted(r.name for r in module.RULES) == sorted(r.name for r in defined), module.__name__
        # A rule's function is defined in the module that lists it (no rule is re-exported).
        assert all(r.check.__module__ == module.__name__ for r in module.RULES), module.__name__
    assert ALL == [r for m in MODULES for r in m.RULES]
    assert len({r.name for r in ALL}) == len(ALL)


def test_rule_modules_are_the_modules_of_policies_rules():
    from policies.rules import MODULES

    on_disk = {p.stem for p in (ROOM / "rules").glob("*.py") if p.stem != "__init__"}
    assert {m.__name__.rsplit(".", 1)[-1] for m in MODULES} == on_disk


# policies/gate.py and policies/report.py are being rewritten by their owner; they join the limits then.
SIZE_EXEMPT = {"policies.gate", "policies.report"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _long_function_allowed(lines: list[str], node: ast.AST) -> bool:
    """A function may be longer when a `# long: <why>` comment sits right above it (or its decorators)."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first >= 2 and lines[first - 2].strip().startswith("# long:")


def test_modules_and_functions_stay_small():
    too_big = []
    for name, path in _modules().items():
        if name in SIZE_EXEMPT:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > MAX_MODULE_LINES:
            too_big.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _long_function_allowed(lines, node):
                    too_big.append(f"{name}.{node.name}: {length} lines")
    assert not too_big, "split these (or say why above the def with '# long: ...'): " + ", ".join(too_big)
