"""plan and gate over mutated stack files: every run ends with exit 0, 1 or 2 and either a result or
located errors, within a time bound; never a traceback, never an internal error."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
LINES = EXAMPLE.splitlines(keepends=True)

# Edits a hand-edited stack file goes through: a line dropped, duplicated, re-indented, or a value
# replaced by an odd YAML scalar.
ODD = ["", "~", "yes", "1:20", "2024-01-01", "1e400", "-1", "0x1F", "'x'", "[]", "{}", "!!str 7", "\"\\u0000\"",
       "&a [*a]", "9" * 30, "ａｐｐ.example.com", "\t"]


@st.composite
def mutated(draw) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "dup", "indent", "value"]))
        if kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "indent":
            lines[i] = "  " + lines[i]
        elif ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(ODD))}\n"
    return "".join(lines)


@given(text=mutated())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_gate_over_mutated_stacks(tmp_path, text):
    from policies.gate import GateOptions, run_gate

    path = tmp_path / "Pulumi.mutant.yaml"
    path.write_text(text)
    t = time.monotonic()
    report = run_gate(GateOptions(stack=str(path), scan_repo=False))
    assert time.monotonic() - t < 60
    assert report.exit_code in (0, 1, 2)
    if report.errors:
        # located: every line names the stack file (the spec's own lines carry file:line)
        assert all(e.strip().startswith(str(path)) for e in report.errors), report.errors
    assert not any("internal error" in e for e in report.errors)


@given(text=mutated())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_plan_over_mutated_stacks(tmp_path, text):
    from infra.cli import main

    path = tmp_path / "Pulumi.mutant.yaml"
    path.write_text(text)
    code = main(["plan", "--stack", str(path), "--format", "json", "--output", str(tmp_path / "plan.json")])
    assert code in (0, 2)
