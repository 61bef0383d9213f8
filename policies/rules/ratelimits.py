"""Rate-limit rules: every authentication path (login, reset, invite, ...) behind a blocking limit."""
from __future__ import annotations

import re
from dataclasses import dataclass

from infra.spec.tenantspec import wildcard_exclusions

from ..context import current_spec
from ..props import (
    PHASE_RATELIMIT,
    HostMatch,
    enabled_rules,
    expr_methods,
    expr_paths,
    fmt_num,
    get,
    host_match,
    num,
    path_covered,
    rule_label,
    rulesets,
    zones,
)
from ..registry import HIGH, MANDATORY, stack_rule

_AUTH_PATTERN = (r"(?i)(log-?in|sign-?in|sign-?up|register|password|passwd|reset|forgot|invite|"
                 r"/auth|token|oauth|mfa|2fa|otp|magic-?link|verify)")
_BLOCKING = {"block", "challenge", "managed_challenge", "js_challenge"}


@dataclass(frozen=True)
class _Target:
    """A path that must be rate limited, and on which hosts (None: any host)."""

    where: str                   # how a message names it: app.example.com/login, tenant group 'clients' ... /login
    path: str
    hosts: HostMatch | None
    shown: str = ""              # the hosts, for "it is limited to X, not <shown>"


def _group_hosts(spec, group) -> HostMatch:
    """The tenant hosts a group serves: its tenants, or its wildcard minus the exceptions, the other
    names under it and the nested groups' wildcards."""
    if not group.wildcard:
        return HostMatch.of(names=group.hosts)
    # The same range the program's group_match writes (infra.spec.tenantspec.wildcard_exclusions).
    others, nested = wildcard_exclusions(spec, group)
    return HostMatch.of(patterns=[group.pattern], except_names=others, except_patterns=nested)


def _group_targets(spec, is_auth) -> list[_Target]:
    out = []
    for g in spec.tenant_groups:
        paths = [path for flow, path in g.flows.items() if is_auth(flow, path)]
        if paths:
            hosts = _group_hosts(spec, g)
            shown = g.pattern if g.wildcard else f"the {len(g.tenants):,} tenant hosts of {g.name!r}"
            out += [_Target(f"tenant group {g.name!r} ({g.size()}) at {path}", path, hosts, shown) for path in paths]
    return out


def _auth_targets(config) -> list[_Target]:
    """The paths that must be rate limited: the spec's authentication flows of hosts and tenant
    groups (none without a spec) and the configured extra paths."""
    pattern = re.compile(config["authPathPattern"])

    def is_auth(flow: str, path: str) -> bool:
        return flow in config["authFlows"] or bool(pattern.search(path))
    targets: list[_Target] = []
    spec = current_spec()
    for host in spec.hosts if spec is not None else []:
        name = host.name.lower()
        targets += [_Target(f"{name}{path}", path, HostMatch.of(names=[name]), name)
                    for flow, path in host.flows.items() if is_auth(flow, path)]
    targets += _group_targets(spec, is_auth) if spec is not None else []
    for entry in config["authPaths"]:
        host, _, path = entry.partition("/")
        host = host.lower()
        targets.append(_Target(f"{host}/{path}", "/" + path, HostMatch.of(names=[host]) if host else None, host))
    return list(dict.fromkeys(targets))


def _limit_facts(rule, index: int = 0):
    """What a rate-limit rule does, parsed once: (label, expression, hosts, methods, rate per minute,
    action), or None when it has no usable rate."""
    expression = str(get(rule, "expression", default=""))
    requests, period = num(get(rule, "ratelimit", "requestsPerPeriod")), num(get(rule, "ratelimit", "period"))
    if requests is None or not period:
        return None
    return (rule_label(rule, index, prefix=""), expression, host_match(expression), expr_methods(expression),
            requests * 60.0 / period, str(get(rule, "action", default="")))


def _host_shortfall(hosts: HostMatch, target: _Target) -> str | None:
    missed = hosts.uncovered(target.hosts)
    if not missed:
        return None
    if missed == target.hosts.positives() and target.shown:
        return f"it is limited to {hosts.describe()}, not {target.shown}"
    more = f" and {len(missed) - 3:,} more" if len(missed) > 3 else ""
    return f"it is limited to {hosts.describe()}, which leaves out {', '.join(missed[:3])}{more}"


def _shortfalls(facts, target: _Target, max_per_minute: float) -> list[str]:
    """Why a rate-limit rule that matches the target's path does not protect it ([] = it does)."""
    label, expression, hosts, methods, rate, action = facts
    out = []
    if action not in _BLOCKING:
        out.append(f"its action is {action!r}, which only counts requests (use block or managed_challenge)")
    if target.hosts is not None and hosts is not None and (why := _host_shortfall(hosts, target)):
        out.append(why)
    if methods is not None and "POST" not in methods:
        out.append(f"it counts only {', '.join(sorted(methods))}, not the POST that submits the form")
    if rate > max_per_minute:
        out.append(f"it allows {fmt_num(rate)} requests per minute, more than {fmt_num(max_per_minute)}")
    return out


def _covers(facts, target: _Target, max_per_minute: float) -> bool:
    return facts is not None and path_covered(target.path, facts[1]) and not _shortfalls(facts, target, max_per_minute)


@stack_rule(
    "auth-rate-limited", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Every login, password-reset, invite (and other authentication) path is covered by a blocking rate-limit rule, at most maxRequestsPerMinute per client.",
    remediation="""
The message names the path and, if a rate limit almost covers it, what that entry lacks.
To add one, append an entry to `launchready:rateLimits` in stacks/Pulumi.<stack>.yaml with the
path from the message, e.g. for /password/reset:
    - path: /password/reset
      methods: [POST]
      requests: 5
      period: 60
The action must block or challenge (`action: log` only counts), `methods` (if given) must include
POST, `hosts` (if given) must include the host in the message, and requests/period must stay at
or under the limit in the message (10 per 60 s is typical for a login form).""",
    config={
        "authFlows": {"type": "array", "items": {"type": "string"},
                      "default": ["login", "reset", "invite", "signup", "mfa", "token"],
                      "description": "Flow names (hosts[].flows keys) that are authentication entry points."},
        "authPathPattern": {"type": "string", "default": _AUTH_PATTERN,
                            "description": "Flow paths matching this regex are treated as authentication paths too."},
        "authPaths": {"type": "array", "items": {"type": "string"}, "default": [],
                      "description": "Extra paths that must be rate limited, as 'host/path' or '/path'."},
        "maxRequestsPerMinute": {"type": "number", "exclusiveMinimum": 0, "default": 100,
                                 "description": "Highest acceptable request rate per client on an auth path."},
    },
    spec_keys=("rateLimits", "hosts"),
    locator=lambda message, resource, spec: _auth_locator(message, spec),
)
def auth_rate_limited(resources, config):
    targets = _auth_targets(config)
    if not targets:
        return
    limit = float(config["maxRequestsPerMinute"])
    facts = [f for z in zones(resources) for rs in rulesets(resources, z, PHASE_RATELIMIT)
             for f in (_limit_facts(rule, i) for i, rule in enumerate(enabled_rules(rs.props))) if f is not None]
    for target in targets:
        if not any(_covers(f, target, limit) for f in facts):
            yield _uncovered_message(target, facts, limit)


def _uncovered_message(target: _Target, facts: list, limit: float) -> str:
    path = target.path
    # The nearest miss: the rule with the most specific path condition that matches.
    near = sorted((f for f in facts if path_covered(path, f[1])),
                  key=lambda f: -max((len(p) for _, p in expr_paths(f[1]) if path.startswith(p.rstrip("*"))), default=0))
    if near:
        f = near[0]
        why = _shortfalls(f, target, limit)
        exact = any(p.rstrip("/") == path.rstrip("/") for _, p in expr_paths(f[1]))
        hint = "" if exact else f" Fix that entry, or add one with `path: {path}` of its own."
        return (f"{target.where} is not protected by a blocking rate limit: {f[0]} matches the path but "
                f"{'; '.join(why)}.{hint}")
    return (f"{target.where} has no rate limit: add a `launchready:rateLimits` entry with `path: {path}` "
            f"(blocking, POST included, at most {fmt_num(limit)} requests per minute).")


def _auth_locator(message: str, spec) -> list[str]:
    m = re.search(r"\brateLimits\[(\d+)\]", message)
    if m:
        i = m.group(1)
        keys = []
        if "its action is" in message:
            keys.append(f"rateLimits[{i}].action")
        if "it is limited to" in message:
            keys += [f"rateLimits[{i}].hosts", f"rateLimits[{i}].groups"]
        if "it counts only" in message:
            keys.append(f"rateLimits[{i}].methods")
        if "requests per minute, more than" in message:
            keys.append(f"rateLimits[{i}].requests")
        return keys + [f"rateLimits[{i}]"]
    group = re.match(r"tenant group '([^']+)' \(.*?\) at (\S+)", message)
    if group:
        return [f"tenantGroups[{i}].flows.{flow}" for i, g in enumerate(getattr(spec, "tenant_groups", None) or [])
                if g.name == group.group(1) for flow, path in g.flows.items() if path == group.group(2)]
    where = message.split(" ", 1)[0]
    keys = []
    for i, host in enumerate(getattr(spec, "hosts", None) or []):
        for flow, path in (host.flows or {}).items():
            if where in (f"{host.name}{path}", path):
                keys.append(f"hosts[{i}].flows.{flow}")
    return keys


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    auth_rate_limited,
)
