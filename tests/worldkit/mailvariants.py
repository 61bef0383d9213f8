"""Mail variants of the world (kept apart from world.VARIANTS to ease merging; world.py appends
MAIL_VARIANTS): a delegated DKIM selector published as a TXT copy, the MTA-STS policy host without
an address or with a bad certificate, and DKIM/SPF records published at a near-miss name.

Each mutation leaves exactly one check failing; `MENTIONS` names a word its FAIL message must hold.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # world.py imports this module at its end: no import of it at load time
    from .world import WorldDomain


class MailVariant(NamedTuple):
    name: str
    expect_fail: str
    mutate: Callable[[WorldDomain], None]


def _world():
    from . import world
    return world


def _ses_selector(w: WorldDomain):
    return next(k for k in w.exp.mail.dkim if k.provider == "ses" and k.cname_target)


def _v_dkim_ses_txt_copy(w: WorldDomain) -> None:
    """SES Easy DKIM: the key copied into a TXT record instead of the CNAME to amazonses.com."""
    k = _ses_selector(w)
    assert w.zone.drop(lambda r: r[0] == k.name + "." and r[2] == "CNAME") == 1
    w.zone.add(k.name, "TXT", _world()._q(_world().dkim_txt(w.keys.rsa2048)))


def _v_sts_host_nxdomain(w: WorldDomain) -> None:
    """No mta-sts.<domain> at all. The stack's own record list drops it too, so that dns-record-present
    (another area) stays quiet and the one finding is the policy's."""
    host = f"mta-sts.{w.name}"
    assert w.zone.drop(lambda r: r[0] == host + ".") >= 1
    w.exp = replace(w.exp, records=tuple(r for r in w.exp.records if r.name != host))


def _cert(mode: str):
    def mutate(w: WorldDomain) -> None:
        w.policy_cert = mode
    return mutate


def _v_dkim_zone_twice(w: WorldDomain) -> None:
    """The DNS UI appended the zone: s._domainkey.example.com.example.com."""
    name = _world()._dkim_txt_name(w)
    rows = [r for r in w.zone.rows if r[0] == name + "." and r[2] == "TXT"]
    assert len(rows) == 1
    w.zone.drop(lambda r: r is rows[0])
    w.zone.add(f"{name}.{w.name}", "TXT", rows[0][3])


def _v_dkim_no_underscore(w: WorldDomain) -> None:
    name = _world()._dkim_txt_name(w)
    rows = [r for r in w.zone.rows if r[0] == name + "." and r[2] == "TXT"]
    assert len(rows) == 1
    w.zone.drop(lambda r: r is rows[0])
    w.zone.add(name.replace("._domainkey.", ".domainkey.", 1), "TXT", rows[0][3])


def _v_spf_at_underscore_spf(w: WorldDomain) -> None:
    """The apex SPF published at _spf.<domain> (www would collide with its own non-sending SPF)."""
    rows = [r for r in w.zone.rows if r[0] == w.name + "." and r[2] == "TXT" and r[3].strip('"').startswith("v=spf1")]
    assert len(rows) == 1
    w.zone.drop(lambda r: r is rows[0])
    w.zone.add(f"_spf.{w.name}", "TXT", rows[0][3])


MAIL_VARIANTS: tuple[MailVariant, ...] = (
    MailVariant("dkim-ses-txt-copy", "dkim-cname-target", _v_dkim_ses_txt_copy),
    MailVariant("mta-sts-host-nxdomain", "mta-sts-policy", _v_sts_host_nxdomain),
    MailVariant("mta-sts-cert-wrong-name", "mta-sts-policy", _cert("wrong-name")),
    MailVariant("mta-sts-cert-untrusted", "mta-sts-policy", _cert("untrusted")),
    MailVariant("mta-sts-cert-expired", "mta-sts-policy", _cert("expired")),
    MailVariant("dkim-zone-twice", "dkim-present", _v_dkim_zone_twice),
    MailVariant("dkim-no-underscore", "dkim-present", _v_dkim_no_underscore),
    MailVariant("spf-at-underscore-spf", "spf-valid", _v_spf_at_underscore_spf),
)

# a word the single FAIL message of each variant must contain (the right reason, not just the right id)
MENTIONS: dict[str, str] = {
    "dkim-ses-txt-copy": "TXT record (a copy of the key",
    "mta-sts-host-nxdomain": "does not exist (NXDOMAIN)",
    "mta-sts-cert-wrong-name": "certificate for another name (www.wrong-name.example.net)",
    "mta-sts-cert-untrusted": "cannot verify",
    "mta-sts-cert-expired": "expired",
    "dkim-zone-twice": "the zone name was appended twice",
    "dkim-no-underscore": "_domainkey lacks its underscore",
    "spf-at-underscore-spf": "published at _spf.example-spf-at-underscore-spf.com",
}
