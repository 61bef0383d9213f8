"""DNS variants of the world (kept apart from world.py's mail variants): each makes one declared
name of the correct zone wrong in one way, and must FAIL on exactly one check id.

Plain (name, expected check id, mutate) triples; world.py wraps them in its Variant type and appends
them to VARIANTS.
"""
from __future__ import annotations


def _stale_value(w):
    """An old address left beside the declared one: the name answers both (round robin to a dead box)."""
    w.zone.add(f"status.{w.name}", "A", "198.51.100.99", 600)


def _proxy_off(w):
    """The proxy switched off for app.<domain>: the zone answers the origin address itself."""
    assert w.zone.drop(lambda r: r[0] == f"app.{w.name}." and r[2] in ("A", "AAAA")) == 2
    w.zone.add(f"app.{w.name}", "A", "203.0.113.20")


def _proxy_off_cname(w):
    """The proxy switched off for the proxied CNAME api.<domain>: the CNAME to the load balancer is served."""
    (target,) = [r.content for r in w.exp.records if r.name == f"api.{w.name}"]
    assert w.zone.drop(lambda r: r[0] == f"api.{w.name}." and r[2] in ("A", "AAAA")) == 2
    w.zone.add(f"api.{w.name}", "CNAME", target.rstrip(".") + ".")


def _cname_takeover(w):
    """The declared A at status.<domain> replaced by a leftover CNAME to a deleted Heroku app."""
    from .world import Zone

    w.third_party.setdefault("herokuapp.com", Zone("herokuapp.com"))  # served empty: the app is gone
    assert w.zone.drop(lambda r: r[0] == f"status.{w.name}." and r[2] == "A") == 1
    w.zone.add(f"status.{w.name}", "CNAME", "old-site.herokuapp.com.", 600)


def _caa_host_override(w):
    """A host-level CAA set (left by a previous vendor) that replaces the apex's for app.<domain>."""
    w.zone.add(f"app.{w.name}", "CAA", '0 issue "digicert.com"')
    w.zone.add(f"app.{w.name}", "CAA", '0 issuewild ";"')


DNS_VARIANTS = (
    ("stale-value", "dns-record-content", _stale_value),
    ("proxy-off", "dns-proxied-edge-only", _proxy_off),
    ("proxy-off-cname", "dns-proxied-edge-only", _proxy_off_cname),
    ("cname-takeover", "dns-dangling-cname", _cname_takeover),
    ("caa-host-override", "dns-caa", _caa_host_override),
)
