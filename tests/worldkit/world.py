"""A local DNS world for verify: the example stack's zone, the third-party zones it points at, and one
variant domain per misconfiguration, all served by one knotd (see knot.py), plus an HTTPS server for
MTA-STS policies (trustme CA).

Zones are rendered from the launch contract (infra's own records for the spec) and from verify's
mail expectations. The mail setup is the example stack's own mail section (world_spec), moved to each
world domain with two changes: a real DKIM key instead of the example's placeholder, and an external
DMARC report destination; the SES DKIM tokens are given as `--outputs` would give them.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from verify.expectations import Expectations, contract_records, from_spec

from .dnsvariants import DNS_VARIANTS
from .knot import KnotServer

CF_A, CF_AAAA = "104.16.132.229", "2606:4700::6810:84e5"  # what Cloudflare answers for proxied names
RUA_VENDOR = "reports.dmarc-vendor.net"
PARENT = "com"
DAYS = 86400
# verify's check groups this world does not serve (it serves DNS and MTA-STS only), so its tests skip
# them: the web (tests/verify/test_verify_web_world.py) and AWS (tests/verify/test_verify_aws_world.py).
WEB_GROUPS = ("tls", "http", "perf", "cache", "aws")


# ----------------------------------------------------------------- the spec for the world

def world_spec(domain: str, dkim_txt_value: str, stack: str = "example", stacks_dir: str | Path = "stacks"):
    """The example stack moved to `domain`, plus: two DNS-only records (every example host is proxied,
    so content and TTL would go unjudged), a docs CNAME on a takeover-prone service, a real DKIM key
    instead of the example's placeholder, and an external DMARC report destination."""
    from infra.spec import Spec, load_stack

    base = load_stack(stack, stacks_dir)
    data = json.loads(json.dumps(base.model_dump(by_alias=True, mode="json", exclude_none=True))
                      .replace(base.domain, domain))
    label = domain.split(".")[0]
    data["records"] = list(data.get("records", [])) + [
        {"name": f"status.{domain}", "type": "A", "content": "198.51.100.7", "ttl": 600},
        {"name": f"docs.{domain}", "type": "CNAME", "content": f"{label}-docs.github.io", "ttl": 3600},
    ]
    if "zone" in data and isinstance(data["zone"], dict):
        data["zone"]["name"] = domain
    mail = data.get("mail")
    if mail:
        for p in mail.get("providers", []):
            if "dkimKey" in p.get("params", {}):
                p["params"]["dkimKey"] = dkim_txt_value
        mail.setdefault("dmarc", {}).setdefault("rua", []).append(f"mailto:agg@{RUA_VENDOR}")
    return Spec.model_validate(data)


def ses_tokens(domain: str) -> list[str]:
    return [hashlib.sha1(f"{domain}/{i}".encode()).hexdigest()[:32] for i in range(3)]


def world_expectations(domain: str, stacks_dir: str | Path = "stacks", keys: Keys | None = None):
    """(spec, expectations) for a world domain, with SES tokens as `--outputs` would give them."""
    keys = keys or Keys.shared()
    spec = world_spec(domain, dkim_txt(keys.rsa2048), stacks_dir=stacks_dir)
    return spec, from_spec(spec, stack="world", outputs={"sesDkimTokens": ses_tokens(domain)})


# ----------------------------------------------------------------- zone rendering

def _q(text: str) -> str:
    """A TXT value as zone-file strings, split at 255 bytes."""
    chunks = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _soa(origin: str) -> list[str]:
    return [f"$ORIGIN {origin}.", "$TTL 300", f"@ 300 IN SOA ns1.{origin}. hostmaster.{origin}. 1 3600 600 864000 300",
            f"@ 300 IN NS ns1.{origin}.", f"ns1.{origin}. 300 IN A 127.0.0.1"]


@dataclass
class Zone:
    """A zone as a list of (name, ttl, type, rdata) lines, easy to mutate per variant."""

    origin: str
    rows: list[tuple[str, int, str, str]] = field(default_factory=list)

    def add(self, name: str, rtype: str, rdata: str, ttl: int = 300) -> None:
        self.rows.append((name.rstrip(".") + ".", ttl, rtype, rdata))

    def drop(self, pred: Callable[[tuple], bool]) -> int:
        before = len(self.rows)
        self.rows = [r for r in self.rows if not pred(r)]
        return before - len(self.rows)

    def text(self) -> str:
        return "\n".join(_soa(self.origin) + [f"{n} {t} IN {ty} {rd}" for n, t, ty, rd in self.rows]) + "\n"


def dkim_txt(key: rsa.RSAPrivateKey | None) -> str:
    if key is None:
        return "v=DKIM1; k=rsa; p="
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


@dataclass
class Keys:
    rsa2048: rsa.RSAPrivateKey
    rsa1024: rsa.RSAPrivateKey

    @classmethod
    def shared(cls) -> Keys:
        global _KEYS
        if _KEYS is None:
            _KEYS = cls(rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 1024))
        return _KEYS


_KEYS: Keys | None = None


def render_domain(spec, exp: Expectations, keys: Keys) -> Zone:
    """The zone a correct `pulumi up` would leave: infra's own records for the spec (the launch
    contract), proxied names answering with edge addresses, plus the SES DKIM CNAMEs of the tokens."""
    d = exp.domain
    z = Zone(d)
    for r in contract_records(spec):
        name, rtype, content = r["name"], r["type"], str(r["content"])
        if r.get("proxied"):
            z.add(name, "A", CF_A, 300)
            z.add(name, "AAAA", CF_AAAA, 300)
            continue
        ttl = 300 if int(r.get("ttl") or 1) == 1 else int(r["ttl"])
        if rtype == "TXT":
            rdata = content if content.startswith('"') else _q(content)
        elif rtype == "MX":
            rdata = f"{r.get('priority') or 0} {content.rstrip('.')}."
            if content.strip() == ".":
                rdata = f"{r.get('priority') or 0} ."
        elif rtype in ("CNAME", "NS"):
            rdata = content.rstrip(".") + "."
        else:
            rdata = content
        z.add(name, rtype, rdata, ttl)
    if exp.mail:
        for k in exp.mail.dkim:
            if k.provider == "ses" and k.cname_target:
                z.add(k.name, "CNAME", k.cname_target + ".")
    return z


def mta_sts_policy(spec) -> str:
    return spec.mail.plan(spec).mta_sts_policy or ""


# ----------------------------------------------------------------- variants

@dataclass(frozen=True)
class Variant:
    name: str
    expect_fail: str  # the one check id that must FAIL
    mutate: Callable[[WorldDomain], None]


@dataclass
class WorldDomain:
    name: str
    exp: Expectations
    zone: Zone
    policy: str
    third_party: dict[str, Zone]
    keys: Keys
    ds_override: str | None = None
    policy_cert: str = "valid"  # the MTA-STS policy host's certificate: valid | wrong-name | untrusted | expired


def _txt_startswith(prefix: str):
    return lambda r: r[2] == "TXT" and r[3].strip('"').lower().startswith(prefix)


def _edit_txt(w: WorldDomain, name: str, prefix: str, edit: Callable[[str], str]) -> None:
    n = name.rstrip(".") + "."
    rows = [r for r in w.zone.rows if r[0] == n and _txt_startswith(prefix)(r)]
    assert len(rows) == 1, (name, prefix, rows)
    old = rows[0][3].replace('" "', "").strip('"')
    w.zone.drop(lambda r: r is rows[0])
    w.zone.add(name, "TXT", _q(edit(old)))


def _dkim_txt_name(w) -> str:
    return next(k.name for k in w.exp.mail.dkim if not k.cname_target)


def _v_missing_record(w):
    assert w.zone.drop(lambda r: r[0] == f"status.{w.name}." and r[2] == "A") == 1


def _v_wrong_content(w):
    w.zone.drop(lambda r: r[0] == f"status.{w.name}." and r[2] == "A")
    w.zone.add(f"status.{w.name}", "A", "198.51.100.99", 600)


def _v_spf_11(w):
    for i in range(10):
        w.zone.add(f"relay{i}.{w.name}", "A", f"192.0.2.{i + 10}")
    terms = tuple(f"a:relay{i}.{w.name}" for i in range(10))
    _edit_txt(w, w.name, "v=spf1", lambda t: t.replace(" -all", f" {' '.join(terms)} -all"))
    # Declared as well (a stack listing its own relays), so the one finding is the lookup count,
    # not undeclared senders.
    apex = w.exp.mail.spf[0]
    assert apex.name == w.name
    w.exp = replace(w.exp, mail=replace(w.exp.mail, spf=(replace(apex, other_terms=apex.other_terms + terms),
                                                          *w.exp.mail.spf[1:])))


def _v_spf_missing_provider(w):
    first = w.exp.mail.spf[0].includes[0]
    _edit_txt(w, w.name, "v=spf1", lambda t: t.replace(f"include:{first} ", ""))


def _v_dkim_missing(w):
    n = _dkim_txt_name(w) + "."
    assert w.zone.drop(lambda r: r[0] == n) == 1


def _v_dkim_1024(w):
    # The provider's key is 1024-bit (Google Workspace's old default) and the stack declares it.
    _edit_txt(w, _dkim_txt_name(w), "v=dkim1", lambda t: dkim_txt(w.keys.rsa1024))
    declare_dkim_key(w, _dkim_txt_name(w), dkim_txt(w.keys.rsa1024))


def declare_dkim_key(w, name: str, txt: str) -> None:
    """Make the expectations declare `txt`'s p= for the selector at `name` (as the spec would)."""
    p = txt.split("p=", 1)[1]
    w.exp = replace(w.exp, mail=replace(w.exp.mail, dkim=tuple(
        replace(k, public_key=p) if k.name == name else k for k in w.exp.mail.dkim)))


def _v_dkim_revoked(w):
    _edit_txt(w, _dkim_txt_name(w), "v=dkim1", lambda t: dkim_txt(None))


def _v_dmarc_none(w):
    import re
    _edit_txt(w, f"_dmarc.{w.name}", "v=dmarc1", lambda t: re.sub(r"\bp=\w+", "p=none", t))


def _v_dmarc_no_rua(w):
    import re
    _edit_txt(w, f"_dmarc.{w.name}", "v=dmarc1", lambda t: re.sub(r";\s*rua=[^;]*", "", t))


def _v_dangling(w):
    label = w.name.split(".")[0]
    w.third_party["github.io"].drop(lambda r: r[0] == f"{label}-docs.github.io.")


def _v_missing_caa(w):
    assert w.zone.drop(lambda r: r[2] == "CAA") >= 1


def _v_sts_mx(w):
    import re
    # the MX moved to a new provider, the policy still names only the old one
    w.policy = re.sub(r"mx: [^\r\n]+\r\n", "", w.policy).replace("max_age", "mx: mx.old-provider.example.net\r\nmax_age")


def _v_bad_ds(w):
    w.ds_override = "12345 13 2 " + "00" * 32


VARIANTS: tuple[Variant, ...] = (
    Variant("missing-record", "dns-record-present", _v_missing_record),
    Variant("wrong-content", "dns-record-content", _v_wrong_content),
    Variant("spf-plus-all", "spf-strict-all",
            lambda w: _edit_txt(w, w.name, "v=spf1", lambda t: t.replace(" -all", " +all").replace(" ~all", " +all"))),
    Variant("spf-11-lookups", "spf-lookups", _v_spf_11),
    Variant("spf-missing-provider", "spf-providers", _v_spf_missing_provider),
    Variant("dkim-missing", "dkim-present", _v_dkim_missing),
    Variant("dkim-1024", "dkim-key-strength", _v_dkim_1024),
    Variant("dkim-revoked", "dkim-not-revoked", _v_dkim_revoked),
    Variant("dmarc-p-none", "dmarc-policy", _v_dmarc_none),
    Variant("dmarc-no-rua", "dmarc-rua", _v_dmarc_no_rua),
    Variant("dangling-cname", "dns-dangling-cname", _v_dangling),
    Variant("missing-caa", "dns-caa", _v_missing_caa),
    Variant("mta-sts-mx-mismatch", "mta-sts-mx", _v_sts_mx),
    Variant("dnssec-bad-ds", "dnssec", _v_bad_ds),
)
# DNS variants live in dnsvariants.py (one block, appended here).
VARIANTS += tuple(Variant(*v) for v in DNS_VARIANTS)


# ----------------------------------------------------------------- the world

class PolicyServer:
    """HTTPS on 127.0.0.1 serving /.well-known/mta-sts.txt per Host header, with a trustme CA."""

    def __init__(self, policies: dict[str, str], workdir: Path, cert_modes: dict[str, str] | None = None):
        import trustme

        self.policies = policies
        self.ca = trustme.CA()
        cert = self.ca.issue_cert(*policies.keys())
        self.ca_file = str(workdir / "world-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(ctx)
        _serve_bad_certificates(ctx, self.ca, cert_modes or {})
        policies_ref = self.policies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                body = policies_ref.get(host)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _serve_bad_certificates(ctx: ssl.SSLContext, ca, modes: dict[str, str]) -> None:
    """Per SNI host, a certificate that is wrong in one way: for another name (from the trusted test
    CA), from a CA nobody trusts (right name), or expired (trusted CA, right name)."""
    import datetime as dt

    import trustme

    if not modes:
        return
    alt: dict[str, ssl.SSLContext] = {}
    for host, mode in modes.items():
        if mode == "wrong-name":
            cert = ca.issue_cert("www.wrong-name.example.net")
        elif mode == "untrusted":
            cert = trustme.CA().issue_cert(host)
        elif mode == "expired":
            now = dt.datetime.now(dt.UTC)
            cert = ca.issue_cert(host, not_before=now - dt.timedelta(days=90), not_after=now - dt.timedelta(days=1))
        else:
            raise ValueError(f"unknown policy_cert mode {mode!r}")
        alt[host] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(alt[host])

    def pick(sock, server_name, _ctx):
        if server_name and server_name.lower() in alt:
            sock.context = alt[server_name.lower()]

    ctx.sni_callback = pick


@dataclass
class World:
    knot: KnotServer
    policy_server: PolicyServer | None
    domains: dict[str, WorldDomain]
    variants: dict[str, Variant]

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", self.knot.port)]

    def connect_to(self, domains=None) -> dict:
        if self.policy_server is None:
            return {}
        return {(f"mta-sts.{d}", 443): ("127.0.0.1", self.policy_server.port) for d in (domains or self.domains)}

    @property
    def ca_file(self) -> str | None:
        return self.policy_server.ca_file if self.policy_server else None

    def stop(self) -> None:
        self.knot.stop()
        if self.policy_server:
            self.policy_server.stop()


def domain_for(variant: str | None) -> str:
    return "example.com" if variant is None else f"example-{variant}.com"


SERVFAIL_DOMAIN = "example-servfail.com"   # configured in knotd without a zone file: SERVFAIL
REFUSED_DOMAIN = "example-refused.net"     # not served at all: REFUSED


def build_world(workdir: Path, variants=VARIANTS, stacks_dir: str | Path = "stacks",
                with_policy_server: bool = True, extra_listen=(), extra_zones=()) -> World:
    """`extra_zones`: more third-party zone origins (served empty, so a name in them that a variant
    does not add is NXDOMAIN, as on the real internet); variants add rows via `w.third_party`."""
    keys = Keys.shared()
    gh, google, ses, vendor, aws = (Zone("github.io"), Zone("google.com"), Zone("amazonses.com"),
                                    Zone("dmarc-vendor.net"), Zone("amazonaws.com"))
    third = {"github.io": gh, "google.com": google, "amazonses.com": ses, "dmarc-vendor.net": vendor,
             "amazonaws.com": aws}
    for origin in extra_zones:
        third.setdefault(origin.rstrip(".").lower(), Zone(origin.rstrip(".").lower()))
    google.add("_spf.google.com", "TXT", _q("v=spf1 ip4:74.125.0.0/16 ip4:209.85.128.0/17 ~all"))
    google.add("smtp.google.com", "A", "142.250.27.26")
    ses.add("amazonses.com", "TXT", _q("v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 -all"))
    ses.add("feedback-smtp.eu-west-1.amazonses.com", "A", "54.240.0.1")
    vendor.add(RUA_VENDOR, "MX", f"10 mx.{RUA_VENDOR}.")
    vendor.add(f"mx.{RUA_VENDOR}", "A", "192.0.2.53")

    domains: dict[str, WorldDomain] = {}
    for v in (None, *variants):
        name = domain_for(v.name if v else None)
        spec, exp = world_expectations(name, stacks_dir, keys)
        w = WorldDomain(name=name, exp=exp, zone=render_domain(spec, exp, keys), policy=mta_sts_policy(spec),
                        third_party=third, keys=keys)
        label = name.split(".")[0]
        gh.add(f"{label}-docs.github.io", "A", "185.199.108.153")
        for r in exp.records:
            if r.type == "CNAME" and r.content.endswith("amazonaws.com"):
                aws.add(r.content, "A", "192.0.2.80")
        for t in ses_tokens(name):
            ses.add(f"{t}.dkim.amazonses.com", "TXT", _q(dkim_txt(keys.rsa2048)))
        vendor.add(f"{name}._report._dmarc.{RUA_VENDOR}", "TXT", _q("v=DMARC1"))
        if v:
            v.mutate(w)
        domains[name] = w
    aws.rows = list(dict.fromkeys(aws.rows))

    parent = Zone(PARENT)
    zones = {d: w.zone.text() for d, w in domains.items()}
    zones.update({z.origin: z.text() for z in third.values()})
    zones[PARENT] = parent.text()
    knot = KnotServer(workdir, zones, signed=list(domains), broken=[SERVFAIL_DOMAIN],
                      extra_listen=tuple(extra_listen)).start()
    try:
        for d, w in domains.items():
            parent.add(d, "NS", f"ns1.{d}.")
            for ds in ([w.ds_override] if w.ds_override else knot.ds_records(d)):
                parent.add(d, "DS", ds)
        knot.reload_zone(PARENT, parent.text())
        _wait_ds(knot, next(iter(domains)))
        ps = PolicyServer({f"mta-sts.{d}": w.policy for d, w in domains.items()}, workdir,
                          {f"mta-sts.{d}": w.policy_cert for d, w in domains.items() if w.policy_cert != "valid"}
                          ) if with_policy_server else None
    except BaseException:
        knot.stop()
        raise
    return World(knot=knot, policy_server=ps, domains=domains, variants={v.name: v for v in variants})


def _wait_ds(knot: KnotServer, domain: str, timeout: float = 5.0) -> None:
    import time

    import dns.message
    import dns.query

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = dns.query.udp(dns.message.make_query(domain + ".", "DS"), "127.0.0.1", port=knot.port, timeout=0.5)
        if r.answer:
            return
        time.sleep(0.05)
    raise RuntimeError("parent zone reload did not publish DS")


# ----------------------------------------------------------------- mail variants (tests/worldkit/mailvariants.py)

from .mailvariants import MAIL_VARIANTS  # noqa: E402  (it reads this module's helpers only when mutating)

VARIANTS = VARIANTS + tuple(Variant(*v) for v in MAIL_VARIANTS)
