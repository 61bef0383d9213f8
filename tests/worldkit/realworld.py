"""Zones misconfigured the way real ones are (beyond the issue's list in world.VARIANTS), and correct
zones of a different but legal shape. Served by the same knotd as the world (build_world with
`variants=VARIANTS + REALWORLD`, `extra_zones=REALWORLD_ZONES`).

Each case names every check that must FAIL (empty: the zone is correct and must pass with no false
alarm) and a word the FAIL message must contain, so a verdict for the wrong reason does not count.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric import rsa

from .world import RUA_VENDOR, WorldDomain, _dkim_txt_name, _edit_txt, _q, declare_dkim_key, dkim_txt, ses_tokens

# Third-party zones the cases point into (served empty: a name a case does not add is NXDOMAIN).
REALWORLD_ZONES = ("herokuapp.com", "azurewebsites.net", "sendgrid.net")


@dataclass(frozen=True)
class Case:
    name: str
    expect_fail: frozenset[str]   # every check id that must FAIL; empty = must pass cleanly
    mutate: Callable[[WorldDomain], None]
    mentions: str = ""            # a word the FAIL message(s) must contain


_K4096: rsa.RSAPrivateKey | None = None


def _k4096() -> rsa.RSAPrivateKey:
    global _K4096
    if _K4096 is None:
        _K4096 = rsa.generate_private_key(65537, 4096)
    return _K4096


def _spf(w, f):
    _edit_txt(w, w.name, "v=spf1", f)


def _dmarc(w, f):
    _edit_txt(w, f"_dmarc.{w.name}", "v=dmarc1", f)


def _dkim(w, f):
    _edit_txt(w, _dkim_txt_name(w), "v=dkim1", f)


def _mail(w, **kw):
    w.exp = replace(w.exp, mail=replace(w.exp.mail, **kw))


def _declare_apex_include(w, include: str) -> None:
    apex = w.exp.mail.spf[0]
    assert apex.name == w.name
    _mail(w, spf=(replace(apex, includes=apex.includes + (include,)), *w.exp.mail.spf[1:]))


def _apex_mx(w, *rdatas: str) -> None:
    w.zone.drop(lambda r: r[0] == w.name + "." and r[2] == "MX")
    for rd in rdatas:
        w.zone.add(w.name, "MX", rd)


def _docs_cname(w, target: str) -> None:
    """Point the declared DNS-only CNAME docs.<domain> somewhere else (spec and zone agree)."""
    name = f"docs.{w.name}"
    w.zone.drop(lambda r: r[0] == name + ".")
    w.zone.add(name, "CNAME", target + ".", 3600)
    w.exp = replace(w.exp, records=tuple(replace(r, content=target) if r.name == name else r for r in w.exp.records))


def _label(w) -> str:
    return w.name.split(".")[0]


# ------------------------------------------------------------------ SPF

def _spf_two(w):  # a second provider added as a second record instead of merged into the first
    w.zone.add(w.name, "TXT", _q("v=spf1 include:sendgrid.net -all"))


def _spf_redirect(w):  # "v=spf1 redirect=" takes the provider's ~all, not the declared -all
    _spf(w, lambda t: "v=spf1 redirect=_spf.google.com")


def _spf_nested(w):  # a declared in-house list whose a/mx terms and nested includes push past 10 lookups
    for i in range(5):
        n = f"_spf{i}.{w.name}"
        w.zone.add(n, "A", "192.0.2.1")
        w.zone.add(n, "MX", f"10 {n}.")
        w.zone.add(n, "TXT", _q(f"v=spf1 a mx include:_spf{i + 1}.{w.name} -all" if i < 4 else "v=spf1 a mx -all"))
    _spf(w, lambda t: t.replace(" -all", f" include:_spf0.{w.name} -all"))
    _declare_apex_include(w, f"_spf0.{w.name}")


def _spf_void(w):  # a declared list still naming relays that were decommissioned (3 void lookups)
    w.zone.add(f"_spf0.{w.name}", "TXT", _q(" ".join(["v=spf1", *(f"a:old{i}.{w.name}" for i in range(3)), "-all"])))
    _spf(w, lambda t: t.replace(" -all", f" include:_spf0.{w.name} -all"))
    _declare_apex_include(w, f"_spf0.{w.name}")


def _spf_open_include(w):  # a declared in-house list that ends in +all: everyone passes via the include
    w.zone.add(f"_spf0.{w.name}", "TXT", _q("v=spf1 ip4:192.0.2.0/24 +all"))
    _spf(w, lambda t: t.replace(" -all", f" include:_spf0.{w.name} -all"))
    _declare_apex_include(w, f"_spf0.{w.name}")


def _spf_undeclared(w):
    w.third_party["sendgrid.net"].add("sendgrid.net", "TXT", _q("v=spf1 ip4:167.89.0.0/17 -all"))
    _spf(w, lambda t: t.replace(" -all", " include:sendgrid.net -all"))


# ------------------------------------------------------------------ DMARC

def _dmarc_doubled_name(w):  # "_dmarc.example.com" typed into a UI that appends the zone
    n = f"_dmarc.{w.name}."
    (row,) = [r for r in w.zone.rows if r[0] == n]
    w.zone.drop(lambda r: r is row)
    w.zone.add(f"_dmarc.{w.name}.{w.name}", "TXT", row[3])


def _dmarc_rua_unauth(w):  # the vendor never published the authorisation for this domain
    w.third_party["dmarc-vendor.net"].drop(lambda r: r[0] == f"{w.name}._report._dmarc.{RUA_VENDOR}.")


# ------------------------------------------------------------------ DKIM

def _dkim_wrong_token(w):  # SES selector CNAME copied from another identity
    k = next(k for k in w.exp.mail.dkim if k.cname_target)
    w.zone.drop(lambda r: r[0] == k.name + ".")
    w.zone.add(k.name, "CNAME", f"{ses_tokens('example.com')[0]}.dkim.amazonses.com.")


def _dkim_garbled(w):  # a character lost when pasting the key
    _dkim(w, lambda t: t[:70] + t[71:])


def _dkim_split_records(w):  # a long key pasted as two TXT records instead of two strings of one
    name = _dkim_txt_name(w) + "."
    (row,) = [r for r in w.zone.rows if r[0] == name]
    text = row[3].replace('" "', "").strip('"')
    w.zone.drop(lambda r: r is row)
    w.zone.add(name, "TXT", _q(text[:200]))
    w.zone.add(name, "TXT", _q(text[200:]))


def _dkim_two_keys(w):  # the new key added next to the old one at the same selector
    w.zone.add(_dkim_txt_name(w), "TXT", _q(dkim_txt(_k4096())))


def _dkim_stale(w):  # the provider rotated the key; DNS still has the old one
    _dkim(w, lambda t: dkim_txt(_k4096()))


# ------------------------------------------------------------------ MX

def _mx_cname(w):
    _apex_mx(w, f"10 mx.{w.name}.")
    w.zone.add(f"mx.{w.name}", "CNAME", "smtp.google.com.")
    _mail(w, mx=((10, f"mx.{w.name}"),))
    w.policy = w.policy.replace("mx: smtp.google.com", f"mx: mx.{w.name}")


def _mx_missing_host(w):
    w.third_party["google.com"].add("alt1.smtp.google.com", "A", "142.250.27.27")
    _mail(w, mx=((1, "smtp.google.com"), (5, "alt1.smtp.google.com")))
    w.policy = w.policy.replace("mx: smtp.google.com", "mx: *.google.com\r\nmx: smtp.google.com")


def _null_mx_mail_from(w):
    w.zone.drop(lambda r: r[0] == f"bounce.{w.name}." and r[2] == "MX")
    w.zone.add(f"bounce.{w.name}", "MX", "0 .")


# ------------------------------------------------------------------ CAA

def _caa(w, *values: str) -> None:
    w.zone.drop(lambda r: r[2] == "CAA")
    for v in values:
        w.zone.add(w.name, "CAA", v)


# ------------------------------------------------------------------ correct, other shapes

def _ok_shapes(w):
    """Every record correct, written differently from infra's rendering."""
    n = w.name + "."
    (spf_row,) = [r for r in w.zone.rows if r[0] == n and "v=spf1" in r[3]]
    w.zone.drop(lambda r: r is spf_row)
    w.zone.add(w.name, "TXT", '"v=spf1 include:_spf" ".google.com -all"')  # split mid-term, joined without spaces
    w.zone.add(w.name, "TXT", _q("google-site-verification=abc123"))     # other TXT at the apex
    _dmarc(w, lambda t: f"v=DMARC1; rua=mailto:dmarc-reports@{w.name}!10m,mailto:agg@{RUA_VENDOR}; fo=1; "
                        "ri=86400; ASPF=r; adkim=S; sp=REJECT; p=Reject; pct=100")
    key = dkim_txt(_k4096())                                               # 4096-bit, several strings
    _dkim(w, lambda t: key.replace("v=DKIM1; k=rsa; ", "v=DKIM1;k=rsa;t=s;h=sha256;"))
    declare_dkim_key(w, _dkim_txt_name(w), key)
    _caa(w, '0 issue "LetsEncrypt.org; validationmethods=dns-01"', '0 issue "pki.goog"', '0 issuewild ";"',
         '0 iodef "mailto:security@example.net"')
    _apex_mx(w, "1 SMTP.Google.COM.")
    w.policy = w.policy.replace("mx: smtp.google.com", "mx: *.google.com")
    _edit_txt(w, f"_smtp._tls.{w.name}", "v=tlsrptv1", lambda t: t + ",https://tlsrpt.example.net/v1")


def _ok_spf_upper(w):
    _spf(w, lambda t: "v=spf1 +INCLUDE:_spf.google.com -ALL exp=explain._spf.%{d}")


REALWORLD: tuple[Case, ...] = (
    Case("rw-spf-two-records", frozenset({"spf-valid"}), _spf_two, "2 SPF records"),
    Case("rw-spf-redirect", frozenset({"spf-strict-all"}), _spf_redirect, "redirect=_spf.google.com"),
    Case("rw-spf-ptr", frozenset({"spf-providers"}), lambda w: _spf(w, lambda t: t.replace(" -all", " ptr -all")), "ptr"),
    Case("rw-spf-nested", frozenset({"spf-lookups"}), _spf_nested, "11 DNS lookups"),
    Case("rw-spf-void", frozenset({"spf-lookups"}), _spf_void, "void"),
    Case("rw-spf-open-include", frozenset({"spf-strict-all"}), _spf_open_include, "+all"),
    Case("rw-spf-softfail", frozenset({"spf-strict-all"}), lambda w: _spf(w, lambda t: t.replace(" -all", " ~all")), "~all"),
    Case("rw-spf-undeclared", frozenset({"spf-providers"}), _spf_undeclared, "sendgrid.net"),
    Case("rw-spf-any-ip", frozenset({"spf-providers"}),
         lambda w: _spf(w, lambda t: t.replace(" -all", " ip4:0.0.0.0/0 -all")), "+all"),
    Case("rw-dmarc-pct", frozenset({"dmarc-policy"}), lambda w: _dmarc(w, lambda t: t + "; pct=10"), "pct=10"),
    Case("rw-dmarc-testing", frozenset({"dmarc-policy"}), lambda w: _dmarc(w, lambda t: t + "; t=y"), "t=y"),
    Case("rw-dmarc-sp-none", frozenset({"dmarc-policy"}),
         lambda w: _dmarc(w, lambda t: t.replace("sp=reject", "sp=none")), "sp=none"),
    Case("rw-dmarc-relaxed", frozenset({"dmarc-policy"}),
         lambda w: _dmarc(w, lambda t: t.replace("adkim=s", "adkim=r")), "adkim=r"),
    Case("rw-dmarc-typo", frozenset({"dmarc-record"}),
         lambda w: _dmarc(w, lambda t: t.replace("p=reject;", "p=quarantin;", 1)), "quarantin"),
    Case("rw-dmarc-doubled-name", frozenset({"dmarc-record"}), _dmarc_doubled_name, "no DMARC record"),
    Case("rw-dmarc-two", frozenset({"dmarc-record"}),
         lambda w: w.zone.add(f"_dmarc.{w.name}", "TXT", _q("v=DMARC1; p=none")), "2 DMARC records"),
    Case("rw-dmarc-rua-unauth", frozenset({"dmarc-rua-authorized"}), _dmarc_rua_unauth, RUA_VENDOR),
    Case("rw-dkim-testing", frozenset({"dkim-key-usable"}),
         lambda w: _dkim(w, lambda t: t.replace("k=rsa;", "k=rsa; t=y;")), "t=y"),
    Case("rw-dkim-sha1", frozenset({"dkim-key-usable"}),
         lambda w: _dkim(w, lambda t: t.replace("k=rsa;", "k=rsa; h=sha1;")), "SHA-1"),
    Case("rw-dkim-wrong-token", frozenset({"dkim-cname-target"}), _dkim_wrong_token, "amazonses.com"),
    Case("rw-dkim-garbled", frozenset({"dkim-key-strength"}), _dkim_garbled, "does not parse"),
    Case("rw-dkim-split-records", frozenset({"dkim-key-strength"}), _dkim_split_records, "does not parse"),
    Case("rw-dkim-two-keys", frozenset({"dkim-present"}), _dkim_two_keys, "2 DKIM records"),
    Case("rw-dkim-stale", frozenset({"dkim-key-match"}), _dkim_stale, "not the declared"),
    Case("rw-mx-cname", frozenset({"mx-hosts"}), _mx_cname, "CNAME"),
    Case("rw-mx-ip", frozenset({"mx", "mta-sts-mx"}), lambda w: _apex_mx(w, "1 142.250.27.26."), "142.250.27.26"),
    Case("rw-mx-missing-host", frozenset({"mx"}), _mx_missing_host, "alt1.smtp.google.com"),
    Case("rw-null-mx-apex", frozenset({"mx"}), lambda w: _apex_mx(w, "0 ."), "null MX"),
    Case("rw-null-mx-mail-from", frozenset({"mail-from-mx"}), _null_mx_mail_from, "null MX"),
    Case("rw-caa-other-ca", frozenset({"dns-caa"}), lambda w: _caa(w, '0 issue "digicert.com"', '0 issuewild ";"'),
         "digicert.com"),
    Case("rw-caa-wild", frozenset({"dns-caa"}),
         lambda w: _caa(w, '0 issue "letsencrypt.org"', '0 issue "pki.goog"', '0 issuewild "sectigo.com"'), "issuewild"),
    Case("rw-caa-critical", frozenset({"dns-caa"}),
         lambda w: w.zone.add(w.name, "CAA", '128 tbs "unknown"'), "critical"),
    Case("rw-sts-testing", frozenset({"mta-sts-policy"}),
         lambda w: setattr(w, "policy", w.policy.replace("mode: enforce", "mode: testing")), "testing"),
    Case("rw-sts-no-id", frozenset({"mta-sts-record"}),
         lambda w: _edit_txt(w, f"_mta-sts.{w.name}", "v=stsv1", lambda t: "v=STSv1;"), "id"),
    Case("rw-tlsrpt-no-mailto", frozenset({"tls-rpt"}),
         lambda w: _edit_txt(w, f"_smtp._tls.{w.name}", "v=tlsrptv1", lambda t: t.replace("mailto:", "")), "URI"),
    Case("rw-ttl", frozenset({"dns-record-ttl"}),
         lambda w: (w.zone.drop(lambda r: r[0] == f"status.{w.name}."),
                    w.zone.add(f"status.{w.name}", "A", "198.51.100.7", 3600)), "3600"),
    Case("rw-cname-heroku", frozenset({"dns-dangling-cname"}),
         lambda w: _docs_cname(w, f"{_label(w)}-portal.herokuapp.com"), "Heroku"),
    Case("rw-cname-s3", frozenset({"dns-dangling-cname"}),
         lambda w: _docs_cname(w, f"{_label(w)}.s3-website-eu-west-1.amazonaws.com"), "S3"),
    Case("rw-cname-azure-chain", frozenset({"dns-dangling-cname"}),
         lambda w: (_docs_cname(w, f"docs-cdn.{w.name}"),
                    w.zone.add(f"docs-cdn.{w.name}", "CNAME", f"{_label(w)}.azurewebsites.net.")), "Azure"),
    Case("rw-ok-shapes", frozenset(), _ok_shapes),
    Case("rw-ok-spf-upper", frozenset(), _ok_spf_upper),
)

assert len({c.name for c in REALWORLD}) == len(REALWORLD)
