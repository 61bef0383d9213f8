"""Cloudflare's published edge ranges (infra.knowledge.cloudflare)."""
from __future__ import annotations

import datetime
import ipaddress

import pytest

from infra.knowledge.cloudflare import EDGE_RANGES, RANGES_AS_OF, is_edge_address

pytestmark = pytest.mark.unit


def test_ranges_are_networks_with_a_date():
    nets = [ipaddress.ip_network(n) for n in EDGE_RANGES]  # strict: no host bits set
    assert {n.version for n in nets} == {4, 6}
    assert datetime.date.fromisoformat(RANGES_AS_OF)


@pytest.mark.parametrize("address,edge", [
    ("104.16.132.229", True), ("172.67.1.1", True), ("2606:4700::6810:84e5", True), ("2a06:98c7::1", True),
    ("203.0.113.20", False), ("192.0.2.80", False), ("2001:db8::1", False), ("100::", False),
    ("not-an-ip", False), ("::ffff:104.16.0.1", False),
])
def test_is_edge_address(address, edge):
    assert is_edge_address(address) is edge
