"""Tenant host groups in the spec: what one entry publishes, and every way to get it wrong, located."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.edgerules import HOST_LIST_BUDGET, group_match, hosts_match, rate_limit_targets
from infra.spec import SpecError, load_stack, planned_records
from tests.stackfiles import CLIENTS, PARTNERS, problems, spec_error, stack_with, with_groups

pytestmark = pytest.mark.unit

def test_a_wildcard_group_is_one_record_and_an_explicit_group_one_per_tenant(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, PARTNERS))))
    records = planned_records(spec)
    group = [r for r in records if r.source.startswith("tenantGroups")]
    assert [(r.name, r.type, r.content) for r in group if r.source == "tenantGroups[0]"] == [
        ("*.portal.example.com", "CNAME", "portal-lb.example.net")]
    assert sorted(r.name for r in group if r.source == "tenantGroups[1]") == [
        "partner0.example.com", "partner1.example.com", "partner2.example.com"]
    # The exception gets a record of its own, so the wildcard does not answer for it.
    (marker,) = [r for r in group if r.source == "tenantGroups[0].except"]
    assert (marker.name, marker.type) == ("admin.portal.example.com", "TXT")
    assert all(r.proxied for r in group if r.type != "TXT")


def test_membership_follows_the_group_shape(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, PARTNERS))))
    assert spec.group_of("newcomer.portal.example.com").name == "clients"   # the wildcard serves any tenant
    assert spec.group_of("admin.portal.example.com") is None                 # ... but its exceptions
    assert spec.group_of("partner1.example.com").name == "partners"
    assert spec.group_of("partner9.example.com") is None                     # an explicit group: its tenants only
    assert spec.group_of("app.example.com") is None                          # a declared host is no tenant


def test_caa_allows_wildcard_issuance_only_by_the_groups_certificate_authority(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS))))
    wild = [r.content for r in planned_records(spec) if r.type == "CAA" and "issuewild" in r.content]
    assert wild == ['0 issuewild "letsencrypt.org"']
    plain = load_stack("example")
    assert [r.content for r in planned_records(plain) if "issuewild" in r.content] == ['0 issuewild ";"']


def test_only_groups_below_a_subdomain_need_a_certificate(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, PARTNERS))))
    assert [g.needs_certificate(spec.domain) for g in spec.tenant_groups] == [True, False]


@pytest.mark.parametrize("change, message", [
    ({"domain": "portal.other.org"}, "tenantGroups[0].domain: 'portal.other.org' is outside the apex domain 'example.com'"),
    ({"tenants": ["acme", "globex", "acme"]}, "tenantGroups[0].tenants[2]: 'acme' is declared twice (first at tenants[0])"),
    ({"tenants": ["acme", "admin"]}, "tenantGroups[0].tenants[1]: 'admin' is both a tenant and an exception (except)"),
    ({"except": ["admin", "admin"]}, "tenantGroups[0].except[1]: 'admin' is declared twice (first at except[0])"),
    ({"certificateAuthority": "ssl_com"},
     "tenantGroups[0].certificateAuthority: 'ssl_com' needs 'ssl.com' in caa, or the group's certificate can never be issued"),
])
def test_group_mistakes_are_located(tmp_path, change, message):
    assert message in problems(stack_with(tmp_path, with_groups({**CLIENTS, **change})))


def test_a_tenant_that_is_also_a_declared_host(tmp_path):
    partners = {**PARTNERS, "tenants": ["partner0", "app"]}
    assert ("tenantGroups[0].tenants[1]: 'app.example.com' is declared as hosts[2] too: a host belongs to one place"
            in problems(stack_with(tmp_path, with_groups(partners))))


def test_shape_mistakes_name_the_fix(tmp_path):
    found = " ".join(problems(stack_with(tmp_path, with_groups({**PARTNERS, "tenants": []},
                                                                {**PARTNERS, "name": "p2", "domain": "p.example.com", "except": ["x"]}))))
    assert "declares no tenant: list them in tenants, or set wildcard: true" in found
    assert "except: only a wildcard group has exceptions" in found


def test_groups_clash_by_name_domain_and_nesting(tmp_path):
    nested = {**PARTNERS, "name": "inner", "domain": "eu.portal.example.com"}
    again = {**PARTNERS, "domain": "other.example.com"}
    found = problems(stack_with(tmp_path, with_groups(CLIENTS, nested, again, {**CLIENTS, "name": "copy"})))
    assert "tenantGroups[1].domain: 'eu.portal.example.com' lies under the wildcard of tenantGroups[0] (*.portal.example.com)" in found
    assert "tenantGroups[3].domain: 'portal.example.com' is the domain of tenantGroups[0] too" in found
    assert not any("tenantGroups[2]" in p for p in found)


def test_references_to_groups_are_checked(tmp_path):
    limits = [{"path": "/login", "groups": ["nobody"], "requests": 5}]
    redirects = [{"from": "/old", "to": "/new", "group": "nobody"}]
    found = problems(stack_with(tmp_path, with_groups(CLIENTS, rateLimits=limits, redirects=redirects)))
    assert "rateLimits[0].groups[0]: 'nobody' is not among tenantGroups" in found
    assert "redirects[0].group: 'nobody' is not among tenantGroups" in found


def test_a_tenant_named_as_a_rate_limit_host_points_at_the_group(tmp_path):
    limits = [{"path": "/login", "hosts": ["acme.portal.example.com"], "requests": 5}]
    assert ("rateLimits[0].hosts[0]: 'acme.portal.example.com' is not among hosts (a tenant of 'clients': name the group in groups)"
            in problems(stack_with(tmp_path, with_groups(CLIENTS, rateLimits=limits))))


def test_one_bad_group_does_not_hide_the_others(tmp_path):
    bad = {**PARTNERS, "name": "Bad Name"}
    err = spec_error(stack_with(tmp_path, with_groups(bad, {**CLIENTS, "tenants": ["acme", "acme"]})))
    paths = [i.path for i in err.issues]
    assert any(p.startswith("launchready:tenantGroups[0].name") or p.startswith("tenantGroups[0].name") for p in paths)
    assert "tenantGroups[1].tenants[1]" in paths
    assert all(i.line for i in err.issues)


# -- edge expressions ------------------------------------------------------------------------------

def test_a_short_explicit_group_is_matched_by_its_list(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(PARTNERS))))
    expr = group_match(spec, spec.tenant_groups[0])
    assert expr == 'http.host in {"partner0.example.com" "partner1.example.com" "partner2.example.com"}'


def test_a_wildcard_leaves_out_declared_hosts_and_exceptions(tmp_path):
    hosts_below = [{"name": "status.portal.example.com", "origin": "203.0.113.40"}]

    def edit(config):
        with_groups(CLIENTS)(config)
        config["launchready:hosts"] += hosts_below
    spec = load_stack(str(stack_with(tmp_path, edit)))
    expr = group_match(spec, spec.tenant_groups[0])
    assert expr == ('(http.host wildcard "*.portal.example.com" and not http.host in '
                    '{"admin.portal.example.com" "status.portal.example.com"})')


def test_a_large_group_at_the_apex_stays_one_short_expression(tmp_path):
    big = {**PARTNERS, "tenants": [f"t{i}" for i in range(10_000)]}
    spec = load_stack(str(stack_with(tmp_path, with_groups(big, CLIENTS))))
    expr = group_match(spec, spec.tenant_groups[0])
    assert len(expr) < 4096 and len(expr) <= HOST_LIST_BUDGET
    # Every other name the zone serves below the apex is left out, the other group's range too.
    for name in ("www.example.com", "app.example.com", "api.example.com", "mta-sts.example.com"):
        assert f'"{name}"' in expr
    assert 'not http.host wildcard "*.portal.example.com"' in expr


def test_rate_limits_cover_the_groups_that_serve_the_path(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, PARTNERS))))
    login = next(rl for rl in spec.rate_limits if rl.path == "/login")
    hosts, groups = rate_limit_targets(spec, login)
    assert "app.example.com" in hosts and [g.name for g in groups] == ["clients", "partners"]
    reset = next(rl for rl in spec.rate_limits if rl.path == "/password/reset")
    assert rate_limit_targets(spec, reset)[1] == []


# -- hostile input ---------------------------------------------------------------------------------

_label_text = st.text(alphabet="abcXYZ019-_.* é", min_size=0, max_size=70)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(_label_text, min_size=1, max_size=6), wildcard=st.booleans())
def test_any_tenant_list_is_accepted_or_refused_with_a_located_message(tmp_path, labels, wildcard):
    group = {**PARTNERS, "tenants": labels, "wildcard": wildcard}
    path = stack_with(tmp_path, with_groups(group))
    try:
        spec = load_stack(str(path))
    except SpecError as err:
        assert err.issues and all(i.line for i in err.issues)
        return
    records = [r for r in planned_records(spec) if r.source == "tenantGroups[0]"]
    expected = 1 if wildcard else len(labels)
    assert len(records) == expected
    assert all(r.name.endswith(".example.com") for r in records)


def test_short_lists_that_add_up_past_the_limit_turn_into_wildcards(tmp_path):
    first = {**PARTNERS, "tenants": [f"first-tenant-{i}" for i in range(60)]}
    second = {**PARTNERS, "name": "second", "domain": "clients.example.com", "tenants": [f"second-tenant-{i}" for i in range(60)]}
    spec = load_stack(str(stack_with(tmp_path, with_groups(first, second))))
    login = next(rl for rl in spec.rate_limits if rl.path == "/login")
    hosts, groups = rate_limit_targets(spec, login)
    assert len(groups) == 2 and all(len(group_match(spec, g)) <= HOST_LIST_BUDGET for g in groups)
    expression = hosts_match(spec, hosts, groups)
    assert len(expression) <= HOST_LIST_BUDGET
    assert 'http.host wildcard "*.clients.example.com"' in expression and 'http.host wildcard "*.example.com"' in expression


def test_a_tenant_cannot_take_the_name_of_a_mail_host(tmp_path):
    found = problems(stack_with(tmp_path, with_groups({**PARTNERS, "tenants": ["mta-sts", "fine"]})))
    assert ("tenantGroups[0].tenants[0]: 'mta-sts.example.com' already answers with an address of its own (mail.mtaSts): "
            "a tenant there would take its place") in found


def test_a_name_with_records_of_its_own_is_not_the_wildcards(tmp_path):
    apex = {**CLIENTS, "name": "everyone", "domain": "example.com", "except": [], "tenants": ["acme"]}
    spec = load_stack(str(stack_with(tmp_path, with_groups(apex))))
    assert spec.group_of("acme.example.com").name == "everyone"
    for own in ("mta-sts.example.com", "bounce.example.com", "www.example.com"):
        assert spec.group_of(own) is None
    expr = group_match(spec, spec.tenant_groups[0])
    assert '"mta-sts.example.com"' in expr and '"www.example.com"' in expr


def test_nested_groups_are_left_out_by_their_wildcard_not_name_by_name(tmp_path):
    apex = {**PARTNERS, "tenants": [f"p{i}" for i in range(400)]}
    below = {**PARTNERS, "name": "below", "domain": "portal.example.com", "tenants": [f"c{i}" for i in range(400)]}
    spec = load_stack(str(stack_with(tmp_path, with_groups(apex, below))))
    login = next(rl for rl in spec.rate_limits if rl.path == "/login")
    expression = hosts_match(spec, *rate_limit_targets(spec, login))
    assert len(expression) <= HOST_LIST_BUDGET
    assert '"c1.portal.example.com"' not in expression and 'not http.host wildcard "*.portal.example.com"' in expression


def test_a_dns_only_group_needs_no_edge_certificate(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_groups({**CLIENTS, "proxied": False}))))
    assert not spec.tenant_groups[0].needs_certificate(spec.domain)
    assert [r.content for r in planned_records(spec) if "issuewild" in r.content] == ['0 issuewild ";"']
