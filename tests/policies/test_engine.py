"""The in-process runner presents resources exactly as the SDK's servicer does."""
from __future__ import annotations

import pytest
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.engine import Analyzer, _struct, reconcile_config
from policies.props import DNS_RECORD, HEALTH_CHECK, ZONE_DNSSEC
from policies.rules import ALL

from .conftest import ZONE, resource

pytestmark = pytest.mark.unit


def test_stack_analysis_matches_the_sdk_servicer():
    resources = [
        resource(DNS_RECORD, "a", zoneId=ZONE, name="example.com", type="A", content="203.0.113.1", proxied=True, ttl=1),
        resource(DNS_RECORD, "b", zoneId=ZONE, name="example.com", type="TXT", content="v=spf1 +all", proxied=False, ttl=1),
        resource(DNS_RECORD, "c", zoneId=ZONE, name="example.com", type="TXT", content="v=spf1 -all", proxied=False, ttl=1),
        resource(ZONE_DNSSEC, "d", zoneId=ZONE, status=UNKNOWN_STRING_VALUE),
        resource(HEALTH_CHECK, "h", fqdn="example.com", type="HTTP"),
    ]
    config = reconcile_config(ALL, {"all": "mandatory", "caa-present": {"allowedIssuers": ["letsencrypt.org"]}})
    mine = sorted((d.policy, d.level.value, d.message, d.urn) for d in Analyzer(ALL, config).analyze_stack(resources))

    stack_rules = [p for p in ALL if p.kind == "stack"]
    servicer = _PolicyAnalyzerServicer("launchready", "0.1.0", stack_rules, EnforcementLevel.ADVISORY)
    request = proto.ConfigureAnalyzerRequest()
    for p in stack_rules:
        pc = proto.PolicyConfig(enforcementLevel=proto.MANDATORY)
        if config.properties[p.name]:
            pc.properties.update(config.properties[p.name])
        request.policyConfig[p.name].CopyFrom(pc)
    servicer.Configure(request, None)
    stack = proto.AnalyzeStackRequest()
    for r in resources:
        stack.resources.append(proto.AnalyzerResource(type=r.type, properties=_struct(r.inputs, r.secret_paths),
                                                      urn=r.urn, name=r.name))
    response = servicer.AnalyzeStack(stack, None)
    level = {proto.MANDATORY: "mandatory", proto.ADVISORY: "advisory"}
    theirs = []
    for d in response.diagnostics:
        prefix = next(p.description for p in stack_rules if p.name == d.policyName)
        message = d.message[len(prefix):].lstrip("\n") if d.message.startswith(prefix) else d.message
        theirs.append((d.policyName, level[d.enforcementLevel], message, d.urn))
    assert mine == sorted(theirs)
    assert any(m[1] == "advisory" and "can't be known during preview" in m[2] for m in mine)
