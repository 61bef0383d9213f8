"""One launch model: a run of plan, gate or verify reads the stack file once and builds the typed spec
once; the program, the rules and verify's expectations all receive that one spec."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

STACKS = Path(__file__).resolve().parents[1] / "stacks"


@pytest.fixture
def counted(monkeypatch):
    """Counts of stack-file reads (YAML parses) and spec builds (Spec validations) during a test."""
    from infra.spec import yamlsafe
    from infra.spec.spec import Spec

    counts = {"yaml": 0, "spec": 0}
    load, validate = yamlsafe.load, Spec.model_validate.__func__

    def counting_load(*a, **kw):
        counts["yaml"] += 1
        return load(*a, **kw)

    def counting_validate(cls, *a, **kw):
        counts["spec"] += 1
        return validate(cls, *a, **kw)

    monkeypatch.setattr(yamlsafe, "load", counting_load)
    monkeypatch.setattr(Spec, "model_validate", classmethod(counting_validate))
    return counts


def _main(*argv):
    from infra.cli import main
    return main(list(argv))


def test_plan_reads_the_stack_file_once(counted, capsys):
    assert _main("plan", "--stack", "example", "--stacks-dir", str(STACKS), "--format", "json") == 0
    assert (counted["yaml"], counted["spec"]) == (1, 1)


def test_gate_reads_the_stack_file_once(counted, capsys):
    assert _main("gate", "--stack", "example", "--stacks-dir", str(STACKS), "--no-repo-scan", "--format", "json") == 0
    assert (counted["yaml"], counted["spec"]) == (1, 1)


def test_verify_reads_the_stack_file_once(counted, capsys):
    # a closed port: every DNS check is ERROR at once; what matters here is how the spec was read
    code = _main("verify", "--stack", "example", "--stacks-dir", str(STACKS), "--nameserver", "127.0.0.1:9",
                 "--only", "dns-ns-delegation", "--timeout", "0.2", "--deadline", "2", "--format", "json")
    assert code == 2
    assert (counted["yaml"], counted["spec"]) == (1, 1)


def test_the_rules_judge_the_gates_spec_not_a_rebuilt_one(monkeypatch):
    """Inside the gate the rules see the very spec object the gate built (policies.context.use_spec)."""
    from policies import context
    from policies.gate import GateOptions, run_gate

    seen = []
    original = context.current_spec

    def spy():
        spec = original()
        seen.append(spec)
        return spec

    monkeypatch.setattr(context, "current_spec", spy)
    import policies.rules.mail as mail_rules
    import policies.rules.monitoring as monitoring_rules
    import policies.rules.ratelimits as ratelimit_rules
    for module in (mail_rules, monitoring_rules, ratelimit_rules):
        if hasattr(module, "current_spec"):
            monkeypatch.setattr(module, "current_spec", spy)
    run_gate(GateOptions(stack="example", stacks_dir=str(STACKS), scan_repo=False))
    assert seen and len({id(s) for s in seen}) == 1 and seen[0] is not None
