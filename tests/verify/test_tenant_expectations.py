"""Tenant groups in verify's expectations and root causes."""
from __future__ import annotations

import pytest

from infra.findings import Finding, Location, Report, Status
from verify.rootcause import mark_root_causes

pytestmark = pytest.mark.unit


def _f(id_, status, area, target):
    return Finding(id_, status, "msg", area=area, location=Location(target=target))


def test_tenant_findings_follow_from_an_unserved_zone():
    findings = (
        _f("dns-zone-served", Status.FAIL, "dns", "example.com"),
        _f("tenant-dns", Status.FAIL, "tenants", "clients (*.portal.example.com)"),
        _f("tenant-tls", Status.ERROR, "tenants", "clients (*.portal.example.com)"),
        _f("tenant-https", Status.FAIL, "tenants", "clients (*.portal.example.com)"),   # it answered: its own
        _f("tenant-dns", Status.FAIL, "tenants", "others (*.portal.other.org)"),          # another zone
    )
    marked = mark_root_causes(Report("verify", "variant", findings=findings), "example.com").findings
    assert [f.cause for f in marked] == ["", "dns-zone-served", "dns-zone-served", "", ""]


def test_a_groups_origin_must_refuse_bypass_through_its_first_sampled_host(tmp_path):
    from infra.spec import load_stack
    from tests.stackfiles import CLIENTS, stack_with, with_groups
    from verify.webexpect import web_from_spec

    def edit(config):
        with_groups(CLIENTS)(config)
        config["launchready:tls"]["authenticatedOriginPulls"] = True
    locked = web_from_spec(load_stack(str(stack_with(tmp_path, edit)))).origin_locked
    assert ("acme.portal.example.com", "portal-lb.example.net") in locked
    assert not any(name == "globex.portal.example.com" for name, _ in locked)   # one per group, not per tenant


def test_the_dns_group_judges_a_groups_wildcard_and_markers_not_each_explicit_tenant(tmp_path):
    from infra.spec import load_stack
    from tests.stackfiles import CLIENTS, PARTNERS, stack_with, with_groups
    from verify.expectations import from_spec

    exp = from_spec(load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, PARTNERS)))))
    names = {r.name for r in exp.records}
    assert {"*.portal.example.com", "admin.portal.example.com"} <= names
    assert not any(n.startswith("partner") for n in names)   # swept and summarised by tenant-dns
