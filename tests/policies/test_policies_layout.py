"""The shape of the policies room: explicit registries, no import cycles, no reach into rooms above it.

Imports are read from the source by tests/importgraph.py (nothing is imported to find them),
including imports inside functions: a lazy import hides a cycle from the interpreter only until the
day the function is called at import time. The project-wide rules (the rooms' order, sizes of
modules and functions) are in tests/test_layout.py.
"""
from __future__ import annotations

import importlib.metadata
import sys

import importgraph
import pytest

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
    assert "policies.reposcan" in graph["policies.scan"]


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

