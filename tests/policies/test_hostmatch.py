"""policies.hostmatch: the hosts a rule expression is limited to. Wildcard algebra checked exhaustively on
a small alphabet; expression parsing checked as a round trip against the program's own builders
(infra.edgerules: host_in, group_match, hosts_match), for explicit and wildcard tenant groups."""
from __future__ import annotations

import itertools
from types import SimpleNamespace
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import edgerules
from infra.spec.tenantspec import TenantGroup
from policies.hostmatch import HostMatch, glob_covers, glob_match, glob_meets, host_match

pytestmark = pytest.mark.unit

# -- wildcard algebra, exhaustively -----------------------------------------------------------------

PATTERNS = ["".join(p) for n in range(4) for p in itertools.product("a.*", repeat=n)]
HOSTS = ["".join(h) for n in range(7) for h in itertools.product("ab.", repeat=n)]
MATCHED = {p: frozenset(h for h in HOSTS if glob_match(p, h)) for p in PATTERNS}


def test_glob_match_is_cloudflare_wildcard():
    assert glob_match("*.portal.example.com", "acme.portal.example.com")
    assert glob_match("*.portal.example.com", "a.b.portal.example.com")  # `*` crosses dots
    assert glob_match("*.Portal.example.com", "ACME.portal.example.com")  # case-insensitive
    assert not glob_match("*.portal.example.com", "portal.example.com")
    assert glob_match(r"a\*b", "a*b") and not glob_match(r"a\*b", "axb")


@pytest.mark.parametrize("outer", PATTERNS)
def test_glob_covers_is_language_inclusion(outer):
    for inner in PATTERNS:
        assert glob_covers(outer, inner) == (MATCHED[inner] <= MATCHED[outer]), (outer, inner)


@pytest.mark.parametrize("a", PATTERNS)
def test_glob_meets_is_a_common_host(a):
    for b in PATTERNS:
        assert glob_meets(a, b) == bool(MATCHED[a] & MATCHED[b]), (a, b)


# -- expressions ------------------------------------------------------------------------------------

def test_the_three_ways_the_program_names_hosts():
    assert host_match('http.host eq "App.Example.com"') == HostMatch.of(names=["app.example.com"])
    assert host_match('http.host in {"a.example.com" "b.example.com"}') == HostMatch.of(names=["a.example.com", "b.example.com"])
    group = host_match('(http.host wildcard "*.portal.example.com" and not http.host in {"admin.portal.example.com"} '
                       'and not http.host wildcard "*.eu.portal.example.com")')
    assert group == HostMatch.of(patterns=["*.portal.example.com"], except_names=["admin.portal.example.com"],
                                 except_patterns=["*.eu.portal.example.com"])
    assert group.describe() == "*.portal.example.com except admin.portal.example.com, *.eu.portal.example.com"


def test_conditions_on_other_fields_do_not_limit_the_host():
    assert host_match("true") is None
    assert host_match('starts_with(http.request.uri.path, "/login")') is None
    assert host_match('(http.host eq "a.example.com" or starts_with(http.request.uri.path, "/x"))') is None
    assert host_match('http.host matches "^a"') is None and host_match("http.host in $tenants") is None
    both = host_match('(http.host eq "a.example.com" and http.request.method in {"POST"})')
    assert both == HostMatch.of(names=["a.example.com"])


def test_a_group_inside_a_group_is_covered_by_its_own_branch():
    outer_minus_inner = ('((http.host wildcard "*.p.example.com" and not http.host wildcard "*.eu.p.example.com") '
                         'or http.host wildcard "*.eu.p.example.com")')
    found = host_match(outer_minus_inner)
    assert found.covers(HostMatch.of(patterns=["*.eu.p.example.com"]))
    assert found.covers(HostMatch.of(patterns=["*.p.example.com"], except_patterns=["*.eu.p.example.com"]))
    assert not host_match('(http.host wildcard "*.p.example.com" and not http.host wildcard "*.eu.p.example.com")').covers(
        HostMatch.of(patterns=["*.eu.p.example.com"]))


def test_uncovered_names_what_is_left_out():
    limit = host_match('(http.host wildcard "*.portal.example.com" and not http.host in {"acme.portal.example.com"})')
    assert limit.uncovered(HostMatch.of(names=["acme.portal.example.com", "globex.portal.example.com"])) == [
        "acme.portal.example.com"]
    assert limit.uncovered(HostMatch.of(patterns=["*.portal.example.com"])) == ["*.portal.example.com"]
    # A target that excludes the same name is covered.
    assert limit.covers(HostMatch.of(patterns=["*.portal.example.com"], except_names=["acme.portal.example.com"]))


# -- round trip against the program's builders ------------------------------------------------------

LABEL = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
DOMAINS = ["portal.example.com", "example.com", "t.example.com"]


@st.composite
def groups(draw):
    domain = draw(st.sampled_from(DOMAINS))
    wildcard = draw(st.booleans())
    labels = draw(st.lists(LABEL, min_size=0 if wildcard else 1, max_size=12, unique=True))
    tenants, exceptions = labels, []
    if wildcard and labels:
        cut = draw(st.integers(0, len(labels)))
        tenants, exceptions = labels[:cut], labels[cut:]
    group = TenantGroup.model_validate({"name": "g", "domain": domain, "origin": "lb.example.net", "wildcard": wildcard,
                                        "tenants": tenants, "except": exceptions})
    others = draw(st.lists(LABEL, max_size=4, unique=True))
    nested = draw(st.booleans()) and domain != "t.example.com" and "t.example.com".endswith("." + domain)
    inner = TenantGroup.model_validate({"name": "inner", "domain": "t.example.com", "origin": "lb.example.net",
                                        "wildcard": True})
    served = {f"{o}.{domain}" for o in others if o not in labels} | {"example.com"}
    groups_ = [group] + ([inner] if nested else [])
    # Spec.group_of: a name the zone serves on its own (a declared host) belongs to no group.
    spec = SimpleNamespace(served_names=frozenset(served), tenant_groups=groups_,
                           group_of=lambda n: None if n in served else next((g for g in groups_ if g.serves(n)), None))
    return spec, group


def probes(spec, group) -> list[str]:
    names = set(spec.served_names) | set(group.hosts) | {group.host_name(x) for x in group.exceptions}
    names |= {f"new{i}.{group.domain}" for i in range(2)} | {"x.t.example.com", "a.b.portal.example.com", "other.org"}
    return sorted(names)


def intended(spec, group, listed: bool, host: str) -> bool:
    """What group_match means: the tenants when it lists them, else `*.<domain>` minus what the group
    does not serve (explicit names, exceptions, nested groups' wildcards)."""
    if listed:
        return host in group.hosts
    suffix = "." + group.domain
    if not host.endswith(suffix) or (host in spec.served_names and spec.group_of(host) is not group):
        return False
    if host in {group.host_name(x) for x in group.exceptions}:
        return False
    return not any(host.endswith("." + g.domain) for g in spec.tenant_groups if g is not group)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups(), st.sampled_from([edgerules.HOST_LIST_BUDGET, 60]), st.lists(LABEL, max_size=3, unique=True))
def test_group_expressions_round_trip(drawn, budget, explicit):
    spec, group = drawn
    hosts = [f"{h}.example.org" for h in explicit]
    with mock.patch.object(edgerules, "HOST_LIST_BUDGET", budget):
        expression = edgerules.all_of([edgerules.hosts_match(spec, hosts, [group]), edgerules.path_prefix("/login")])
        # hosts_match lists the tenants only while the whole host part fits the budget.
        head = [edgerules.host_in(hosts)] if hosts else []
        listed = not group.wildcard and len(edgerules.any_of(head + [edgerules.host_in(group.hosts)])) <= budget
    found = host_match(expression)
    for host in probes(spec, group) + hosts:
        assert found.matches(host) == (host in hosts or intended(spec, group, listed, host)), (expression, host)
    # The group's own hosts, as the rate-limit rule derives them, are covered by the expression.
    assert found.covers(HostMatch.of(names=group.hosts))


@given(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,3}", fullmatch=True), min_size=1, max_size=8))
def test_host_lists_round_trip(hosts):
    found = host_match(edgerules.host_in(hosts))
    assert found == HostMatch.of(names=hosts)
    assert found.positives() == sorted(set(hosts))
