"""A zone that is not served explains the tenant sweep's DNS failures and its TLS/HTTPS errors too."""
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
