"""The shape of the whole project: no import cycle, imports go down the rooms, and modules and
functions stay small enough to read.

The rooms, lowest first (DESIGN.md: "no room imports a room above it"):

  ground    infra.spec, infra.knowledge, infra.findings, infra.commands (and the bare `infra`
            package, which every import of infra.* runs first): shared by every room
  infra     the Pulumi program: every other module of infra/ but infra.cli
  policies  judges what infra declares, before apply  } siblings: never import each other
  verify    judges the live world, after apply         }
  cli       infra.cli, the dispatcher: imports only infra.commands (it finds the rooms' commands
            through entry points)

Imports are read from the source (tests/importgraph.py), lazy ones and TYPE_CHECKING ones included.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import importgraph
import pytest

pytestmark = pytest.mark.unit

PACKAGES = ("infra", "policies", "verify")


@dataclass(frozen=True)
class Room:
    name: str
    level: int
    # Modules (and the packages below them) that belong to this room; matched longest first.
    modules: tuple[str, ...]
    # A room may import its own modules and those of every room below it, or, when `only` is
    # given, just these modules of the rooms below.
    only: tuple[str, ...] | None = None


ROOMS = (
    Room("ground", 0, ("infra.spec", "infra.knowledge", "infra.findings", "infra.commands")),
    Room("infra", 1, ("infra",)),
    Room("policies", 2, ("policies",)),
    Room("verify", 2, ("verify",)),
    Room("cli", 3, ("infra.cli",), only=("infra.commands",)),
)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def room_of(module: str, rooms: Sequence[Room] = ROOMS) -> Room | None:
    if module == "infra":
        # The bare package: importing any infra.* module runs infra/__init__.py first.
        return rooms[0]
    matches = [(len(prefix), room) for room in rooms for prefix in room.modules if _within(module, prefix)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def layering_violations(edges: Mapping[str, Sequence[tuple[str, int]]], rooms: Sequence[Room] = ROOMS) -> list[str]:
    """'module X imports Y, a room above it' for every import that goes up (or sideways) the rooms."""
    out = []
    for module, deps in sorted(edges.items()):
        here = room_of(module, rooms)
        for dep, line in deps:
            there = room_of(dep, rooms)
            if here is None or there is None or there == here:
                continue
            where = f"module {module} imports {dep}"
            why = f"({here.name} -> {there.name}, line {line})"
            if there.level > here.level:
                out.append(f"{where}, a room above it {why}")
            elif there.level == here.level:
                out.append(f"{where}, a room beside it {why}")
            elif here.only is not None and dep not in here.only:
                out.append(f"{where}, which {here.name} may not import: only {', '.join(here.only)} {why}")
    return out


def _describe(cycles: list[list[str]]) -> str:
    return "; ".join(" <-> ".join(cycle) for cycle in cycles)


# -- the checker itself, on synthetic graphs ------------------------------------------------------

def test_cycle_finder_catches_a_planted_cycle():
    graph = {"infra.spec.a": {"infra.spec.b"}, "infra.spec.b": {"infra.spec.c"},
             "infra.spec.c": {"infra.spec.a"}, "infra.program": {"infra.spec.a"}, "verify.x": {"verify.x"}}
    assert importgraph.cycles(graph) == [["infra.spec.a", "infra.spec.b", "infra.spec.c"], ["verify.x"]]
    assert importgraph.cycles({"a": {"b"}, "b": set()}) == []


def test_layering_catches_a_planted_upward_import():
    edges = {
        "infra.spec.model": [("infra.program", 3)],         # ground -> infra: up
        "infra.program": [("infra.spec", 1), ("policies.rules", 9)],  # ok, then up
        "policies.engine": [("verify.runner", 4), ("infra.spec", 5), ("infra.contract", 6)],  # beside, ok, ok
        "verify.runner": [("infra.cli", 7)],                # up to the dispatcher
        "infra.cli": [("infra.commands", 1), ("infra.findings.output", 2)],  # ok, then not allowed
    }
    assert layering_violations(edges) == [
        "module infra.cli imports infra.findings.output, which cli may not import: only infra.commands (cli -> ground, line 2)",
        "module infra.program imports policies.rules, a room above it (infra -> policies, line 9)",
        "module infra.spec.model imports infra.program, a room above it (ground -> infra, line 3)",
        "module policies.engine imports verify.runner, a room beside it (policies -> verify, line 4)",
        "module verify.runner imports infra.cli, a room above it (verify -> cli, line 7)",
    ]


def test_every_module_has_a_room():
    assert room_of("infra") is ROOMS[0]
    assert room_of("infra.spec.loader").name == "ground"
    assert room_of("infra.commands").name == "ground"
    assert room_of("infra.planview").name == "infra"
    assert room_of("infra.cli").name == "cli"
    assert [m for m in importgraph.modules(PACKAGES) if room_of(m) is None] == []


def test_relative_and_submodule_imports_are_resolved():
    graph = importgraph.graph(PACKAGES)
    assert "policies.rules.tls" in graph["policies.rules"]        # from . import tls
    assert "infra.spec.errors" in graph["infra.spec.loader"]      # from .errors import ...
    assert "infra.spec.model" in graph["infra.spec.records"]      # under TYPE_CHECKING
    assert "infra.spec.loader" in graph["policies.context"]       # inside a function
    assert {"infra", "infra.spec"} <= graph["policies.context"]   # parent packages run first


# -- the project ------------------------------------------------------------------------------------

def test_no_import_cycle_among_all_project_modules():
    cycles = importgraph.cycles(importgraph.graph(PACKAGES))
    assert not cycles, "import cycles: " + _describe(cycles)


def test_imports_go_down_the_rooms():
    bad = layering_violations(importgraph.edges_with_lines(importgraph.modules(PACKAGES)))
    assert not bad, "\n".join(bad)


# -- size -------------------------------------------------------------------------------------------

# Modules left out of the size limits, each with its reason (none today: a long function says why
# above its def instead).
SIZE_EXEMPT: dict[str, str] = {}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _long_function_allowed(lines: list[str], node: ast.AST) -> bool:
    """A function may be longer when a `# long: <why>` comment sits right above it (or its decorators)."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first >= 2 and lines[first - 2].strip().startswith("# long:")


def size_problems(name: str, path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = [f"{name}: {len(lines)} lines"] if len(lines) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _long_function_allowed(lines, node):
                out.append(f"{name}.{node.name} (line {node.lineno}): {length} lines")
    return out


def test_size_check_catches_a_long_function_and_a_long_module(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def f():\n{body}\n\n\n# long: a table\ndef g():\n{body}\n")
    assert size_problems("long", tmp_path / "long.py") == [f"long.f (line 1): {MAX_FUNCTION_LINES + 1} lines"]
    (tmp_path / "big.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert size_problems("big", tmp_path / "big.py") == [f"big: {MAX_MODULE_LINES + 1} lines"]


def test_modules_and_functions_stay_small():
    too_big = [problem for name, path in importgraph.modules(PACKAGES).items() if name not in SIZE_EXEMPT
               for problem in size_problems(name, path)]
    assert not too_big, "split these (or say why above the def with '# long: ...'): " + ", ".join(too_big)
