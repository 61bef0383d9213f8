"""The pack's initial config as the engine receives it gives every rule the level the gate uses.

The engine reads the pack's initial config from GetAnalyzerInfo (protobuf PolicyConfig): an entry
without enforcementLevel arrives as level 0, ADVISORY (analyzer.proto). The gate reconciles the same
initial config itself; both must agree, or `pulumi preview --policy-pack` and `launchready gate`
decide differently on the same stack."""
from __future__ import annotations

import pytest
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies.engine import reconcile_config
from policies.rules import ALL, initial_config
from policies.scan import GATE_CHECKS

pytestmark = pytest.mark.unit

_FROM_PROTO = {proto.ADVISORY: EnforcementLevel.ADVISORY, proto.MANDATORY: EnforcementLevel.MANDATORY,
               proto.REMEDIATE: EnforcementLevel.REMEDIATE, proto.DISABLED: EnforcementLevel.DISABLED}


def engine_initial_levels(environment: str, stack: str | None = None) -> dict[str, EnforcementLevel]:
    """The levels of the pack's initial config as the engine reads them from GetAnalyzerInfo."""
    servicer = _PolicyAnalyzerServicer("launchready", "0.1.0", list(ALL), EnforcementLevel.ADVISORY,
                                       initial_config(environment, stack))
    info = servicer.GetAnalyzerInfo(None, None)
    return {name: _FROM_PROTO[cfg.enforcementLevel] for name, cfg in info.initialConfig.items()}


@pytest.mark.parametrize("environment,stack", [("production", "prod"), ("production", "example"), ("production", None),
                                               ("staging", "staging"), ("development", "example")])
def test_engine_and_gate_give_the_same_levels(environment, stack):
    gate_levels = reconcile_config(list(ALL) + list(GATE_CHECKS), None, initial=initial_config(environment, stack)).levels
    engine_levels = engine_initial_levels(environment, stack)
    assert {n: lv for n, lv in engine_levels.items() if gate_levels[n] != lv} == {}


def test_spf_soft_fail_setting_keeps_the_rule_mandatory_outside_production():
    assert engine_initial_levels("staging")["spf-strict-all"] == EnforcementLevel.MANDATORY


def test_example_values_are_mandatory_in_production_except_in_the_template_stack():
    gate = {stack: reconcile_config(list(ALL), None, initial=initial_config("production", stack)).levels
            for stack in ("prod", "example")}
    assert gate["prod"]["example-values-replaced"] == EnforcementLevel.MANDATORY
    assert gate["example"]["example-values-replaced"] == EnforcementLevel.ADVISORY
    assert engine_initial_levels("production", "example")["example-values-replaced"] == EnforcementLevel.ADVISORY
