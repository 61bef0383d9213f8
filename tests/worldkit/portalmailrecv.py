"""The portal mail world's receiving server: aiosmtpd on 127.0.0.1 that evaluates SPF, DKIM and DMARC
the way an inbox provider does, adds an `Authentication-Results` header and delivers into the
private Dovecot's Maildir (portaldovecot.py).

Every DNS answer comes from the world's knotd (a dnspython resolver configured with that server
only, and dkimpy's `dnsfunc` over the same resolver): never the system resolver. SPF is a small
evaluator of its own (ip4, ip6, a, mx, include, redirect, all), enough for the world's records.
"""
from __future__ import annotations

import email
import ipaddress
from collections.abc import Callable
from email.utils import parseaddr

import dkim
import dns.nameserver
import dns.resolver
from aiosmtpd.controller import Controller

from .knot import free_port

AUTHSERV = "mx.launchready.test"


def resolver_for(ns: tuple[str, int]) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [dns.nameserver.Do53Nameserver(ns[0], port=ns[1])]
    r.timeout, r.lifetime = 1.0, 3.0
    return r


class Dns:
    """TXT/A/AAAA/MX lookups through one nameserver; None for no answer."""

    def __init__(self, ns: tuple[str, int]) -> None:
        self.res = resolver_for(ns)

    def records(self, name: str, rdtype: str) -> list:
        try:
            ans = self.res.resolve(name.rstrip(".") + ".", rdtype, raise_on_no_answer=False, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout):
            return []
        return list(ans.rrset or [])

    def txt(self, name: str) -> list[str]:
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self.records(name, "TXT")]

    def dkim_txt(self, name: bytes, timeout: float = 5) -> bytes | None:
        """dkimpy's dnsfunc."""
        found = self.txt(name.decode())
        return found[0].encode() if found else None


def spf_eval(d: Dns, ip: str, domain: str, depth: int = 0) -> str:
    """pass | fail | softfail | neutral | none | permerror for `ip` sending as `domain`."""
    if depth > 10:
        return "permerror"
    records = [t for t in d.txt(domain) if t.lower().startswith("v=spf1")]
    if len(records) != 1:
        return "none" if not records else "permerror"
    addr = ipaddress.ip_address(ip)
    quals = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
    redirect = None
    for term in records[0].split()[1:]:
        q = term[0] if term[0] in quals else "+"
        mech = term.lstrip("+-~?")
        name, _, arg = mech.partition(":")
        name = name.lower()
        if name.startswith("redirect="):
            redirect = mech.split("=", 1)[1]
            continue
        matched = _matches(d, addr, name, arg or domain, depth)
        if matched == "permerror":
            return "permerror"
        if matched:
            return quals[q]
    return spf_eval(d, ip, redirect, depth + 1) if redirect else "neutral"


def _matches(d: Dns, addr, name: str, arg: str, depth: int):
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            return addr in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return "permerror"
    if name == "a":
        return any(str(r) == str(addr) for t in ("A", "AAAA") for r in d.records(arg, t))
    if name == "mx":
        hosts = [str(r.exchange) for r in d.records(arg, "MX")]
        return any(str(r) == str(addr) for h in hosts for t in ("A", "AAAA") for r in d.records(h, t))
    if name == "include":
        return spf_eval(d, str(addr), arg, depth + 1) == "pass"
    return False


def org_domain(domain: str) -> str:
    return ".".join(domain.lower().rstrip(".").split(".")[-2:])


def dmarc_tags(d: Dns, domain: str) -> dict[str, str] | None:
    for name in (f"_dmarc.{domain}", f"_dmarc.{org_domain(domain)}"):
        recs = [t for t in d.txt(name) if t.lower().startswith("v=dmarc1")]
        if recs:
            return {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in recs[0].split(";"))}
    return None


def _aligned(a: str, b: str, mode: str) -> bool:
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


def authenticate(d: Dns, raw: bytes, peer_ip: str, mail_from: str) -> str:
    """The Authentication-Results header value for one received message."""
    msg = email.message_from_bytes(raw)
    from_domain = parseaddr(msg.get("From", ""))[1].rpartition("@")[2].lower()
    mf_domain = mail_from.rpartition("@")[2].lower() or from_domain
    spf = spf_eval(d, peer_ip, mf_domain)
    sig = msg.get("DKIM-Signature")
    dkim_d, dkim_res = "", "none"
    if sig:
        tags = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in sig.replace("\r\n", "").split(";"))}
        dkim_d = tags.get("d", "").lower()
        try:
            dkim_res = "pass" if dkim.verify(raw, dnsfunc=d.dkim_txt) else "fail"
        except dkim.DKIMException:
            dkim_res = "permerror"
    tags = dmarc_tags(d, from_domain)
    if tags is None:
        dmarc = "none"
    else:
        ok = (spf == "pass" and _aligned(mf_domain, from_domain, tags.get("aspf", "r"))) or \
             (dkim_res == "pass" and _aligned(dkim_d, from_domain, tags.get("adkim", "r")))
        dmarc = "pass" if ok else "fail"
    parts = [AUTHSERV, f"spf={spf} smtp.mailfrom={mf_domain}",
             f"dkim={dkim_res}" + (f" header.d={dkim_d}" if dkim_d else ""), f"dmarc={dmarc} header.from={from_domain}"]
    return "; ".join(parts)


class _Handler:
    def __init__(self, d: Dns, deliver: Callable[[bytes], None]) -> None:
        self.d, self.deliver = d, deliver

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content
        ar = authenticate(self.d, raw, session.peer[0], envelope.mail_from or "")
        self.deliver(f"Authentication-Results: {ar}\r\n".encode() + raw)
        return "250 OK"


class Receiver:
    """`Receiver(nameserver, deliver).start()`; `.port`. aiosmtpd runs in its own thread."""

    def __init__(self, ns: tuple[str, int], deliver: Callable[[bytes], None]) -> None:
        self.handler = _Handler(Dns(ns), deliver)
        self.port = 0
        self.controller: Controller | None = None

    def start(self) -> Receiver:
        last: Exception | None = None
        for _attempt in range(3):
            self.port = free_port()
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=5.0)
            try:
                self.controller.start()
                return self
            except Exception as e:  # a port from free_port() can be taken before we bind it
                last = e
        raise RuntimeError(f"the SMTP receiver did not start: {last}")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
