"""One DNS client for every probe: the --nameserver pins (or the system resolver), one timeout.

Answers are values: NXDOMAIN and "no data" are facts about the zone and come back as a DnsAnswer.
Failures to get an answer at all (timeout, SERVFAIL, REFUSED, unreachable) are also recorded on the
answer, and re-raised as DnsQueryError when a judge asks for the data, so the runner reports ERROR
with the reason instead of a verdict.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset


class DnsQueryError(Exception):
    """No usable answer: timeout, SERVFAIL, REFUSED, unreachable server."""


class NameserverSpecError(ValueError):
    pass


def parse_nameserver(text: str) -> tuple[str, int]:
    """'IP', 'IP:PORT', '[IPv6]:PORT' or bare IPv6 -> (ip, port). Hostnames are refused on purpose:
    resolving the resolver would go through the system resolver."""
    s = text.strip()
    if not s.isascii():
        raise NameserverSpecError(f"bad --nameserver {text!r}: expected IP[:PORT] in ASCII, e.g. 127.0.0.1:5353")
    host, port = s, 53
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise NameserverSpecError(f"bad --nameserver {text!r}: missing ']'")
        host, rest = s[1:end], s[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise NameserverSpecError(f"bad --nameserver {text!r}: expected [IPv6]:PORT")
            port = _port(rest[1:], text)
    elif s.count(":") == 1:
        host, p = s.split(":")
        port = _port(p, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise NameserverSpecError(f"bad --nameserver {text!r}: expected IP[:PORT], e.g. 127.0.0.1:5353") from None
    return host, port


def parse_port(p: str) -> int | None:
    """A port written in ASCII digits, 1-65535, else None. str.isdigit() and int() accept '²', '٣',
    '+1', ' 1' and '1_0'; a port on a command line is none of those."""
    if not (0 < len(p) <= 5 and p.isascii() and p.isdigit()):
        return None
    value = int(p)
    return value if 0 < value < 65536 else None


def _port(p: str, text: str) -> int:
    port = parse_port(p)
    if port is None:
        raise NameserverSpecError(f"bad --nameserver {text!r}: port must be 1-65535 in ASCII digits")
    return port


@dataclass(frozen=True)
class DnsAnswer:
    qname: str
    rdtype: str
    status: str  # "ok" | "nxdomain" | "nodata" | "failed"
    records: tuple[str, ...] = ()  # presentation format of the final (post-CNAME) rdata
    ttl: int | None = None
    cname_chain: tuple[str, ...] = ()  # CNAME targets followed to reach the answer
    rrsigs: tuple[str, ...] = ()
    failure: str | None = None
    failure_type: str | None = None
    authoritative: bool = False
    soa_owner: str | None = None  # for NXDOMAIN/no data: the zone that answered (authority SOA)
    # kept for DNSSEC validation; not part of equality
    rrset: dns.rrset.RRset | None = field(default=None, compare=False, repr=False)
    rrsig_rrset: dns.rrset.RRset | None = field(default=None, compare=False, repr=False)

    @property
    def exists(self) -> bool:
        return self.checked().status == "ok"

    def checked(self) -> DnsAnswer:
        """The answer if it is one; DnsQueryError if the server gave none."""
        if self.status == "failed":
            raise DnsQueryError(f"{self.qname} {self.rdtype}: {self.failure}")
        return self

    def texts(self) -> list[str]:
        """TXT rdata as joined strings (RFC 7208 3.3: concatenated without spaces)."""
        if self.rrset is None:
            return []
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self.rrset]


class DnsClient:
    def __init__(self, nameservers: Sequence[tuple[str, int]] | None = None, timeout: float = 3.0):
        self.nameservers = list(nameservers or [])
        self.timeout = float(timeout)

    def describe(self) -> list[str]:
        return [f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}" for ip, port in self.nameservers] or ["system"]

    def do53(self) -> list[dns.nameserver.Do53Nameserver] | None:
        """For checkdmarc: Do53Nameserver objects (it rejects 'ip:port' strings), or None for system."""
        if not self.nameservers:
            return None
        return [dns.nameserver.Do53Nameserver(ip, port=port) for ip, port in self.nameservers]

    def _resolver(self, dnssec: bool = False) -> dns.resolver.Resolver:
        if self.nameservers:
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = self.do53()
        else:
            r = dns.resolver.Resolver()
        r.timeout = min(1.0, self.timeout)  # per-try UDP timeout; retried within the lifetime
        r.lifetime = self.timeout
        r.retry_servfail = False
        if dnssec:
            r.use_edns(0, dns.flags.DO, 1232)
        return r

    def query(self, name: str, rdtype: str, *, dnssec: bool = False) -> DnsAnswer:
        """Query, chasing CNAMEs ourselves: an authoritative server (--nameserver before delegation)
        answers a CNAME into another zone without following it, unlike a recursive resolver."""
        chain: list[str] = []
        current = name
        start = name.rstrip(".").lower()
        for _hop in range(MAX_CNAME_HOPS):
            ans = self._query_once(current, rdtype, dnssec=dnssec)
            if ans.failure_type == CNAME_LOOP:
                # The loop was inside one answer, which starts at `current`: the names followed to
                # reach it (whose last is `current`) lead it in, so it is named from the start.
                return replace(ans, qname=start, cname_chain=(start, *chain)[:-1] + ans.cname_chain)
            looped = _loop(start, chain, ans.cname_chain)
            if looped:
                return _failed(start, rdtype, f"CNAME loop: {' -> '.join(looped)}", CNAME_LOOP, looped)
            chain.extend(c for c in ans.cname_chain if c not in chain)
            if ans.status == "nodata" and ans.cname_chain and rdtype.upper() != "CNAME":
                current = ans.cname_chain[-1]
                continue
            break
        else:
            return _failed(start, rdtype, f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {' -> '.join([start, *chain])}",
                           CNAME_LOOP, (start, *chain))
        if chain and tuple(chain) != ans.cname_chain or current != name:
            ans = replace(ans, qname=name.rstrip(".").lower(), cname_chain=tuple(chain))
        return ans

    def _query_once(self, name: str, rdtype: str, *, dnssec: bool = False) -> DnsAnswer:
        name = name.rstrip(".").lower() + "."
        res = self._resolver(dnssec)
        try:
            ans = res.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as e:
            chain = ()
            resp = None
            try:
                resp = e.response(e.qnames()[0])
                chain = _chain(resp, rdtype)
            except Exception:
                pass
            aa, soa = False, None
            try:
                aa, soa = _aa_soa(resp)
            except Exception:
                pass
            return DnsAnswer(name.rstrip("."), rdtype, "nxdomain", cname_chain=chain, authoritative=aa, soa_owner=soa)
        except dns.resolver.NoNameservers as e:
            looped = _loop_in_errors(e, name)
            if looped:  # dnspython gives up on a chain that loops inside one response (ChainTooLong)
                return _failed(name, rdtype, f"CNAME loop: {' -> '.join(looped)}", CNAME_LOOP, looped)
            return _failed(name, rdtype, _no_ns_reason(e), "DnsServerFailure")
        except dns.resolver.LifetimeTimeout:
            return _failed(name, rdtype, f"timeout: no valid answer within {self.timeout:g}s from {', '.join(self.describe())} "
                           "(no reply, or only malformed ones)",
                           "DnsTimeout")
        except dns.exception.DNSException as e:
            return _failed(name, rdtype, f"{type(e).__name__}: {e}", type(e).__name__)
        except OSError as e:
            return _failed(name, rdtype, f"unreachable: {e}", "DnsUnreachable")
        resp = ans.response
        chain = _chain(resp, rdtype)
        aa, soa = _aa_soa(resp)
        if ans.rrset is None:
            return DnsAnswer(name.rstrip("."), rdtype, "nodata", cname_chain=chain, authoritative=aa, soa_owner=soa)
        rrsig = None
        for rs in resp.answer:
            if rs.rdtype == dns.rdatatype.RRSIG and rs.name == ans.rrset.name:
                rrsig = rs
        return DnsAnswer(
            name.rstrip("."), rdtype, "ok",
            records=tuple(sorted(r.to_text() for r in ans.rrset)),
            ttl=ans.rrset.ttl, cname_chain=chain,
            rrsigs=tuple(r.to_text() for r in rrsig) if rrsig is not None else (),
            rrset=ans.rrset, rrsig_rrset=rrsig, authoritative=aa,
        )


MAX_CNAME_HOPS = 8
CNAME_LOOP = "CnameLoop"


def _loop(start: str, chain: list[str], new: tuple[str, ...]) -> tuple[str, ...] | None:
    """The looping chain (start -> ... -> a name seen before) if `new` closes a loop, else None."""
    seen = [start, *chain]
    for target in new:
        if target in seen:
            return (*seen, target)
        seen.append(target)
    return None


def _chain(resp: dns.message.Message, rdtype: str) -> tuple[str, ...]:
    out = []
    for rs in resp.answer:
        if rs.rdtype == dns.rdatatype.CNAME and dns.rdatatype.from_text(rdtype) != dns.rdatatype.CNAME:
            out.extend(r.target.to_text().rstrip(".").lower() for r in rs)
    return tuple(out)


def _aa_soa(resp) -> tuple[bool, str | None]:
    if resp is None:
        return False, None
    aa = bool(resp.flags & dns.flags.AA)
    for rs in resp.authority:
        if rs.rdtype == dns.rdatatype.SOA:
            return aa, rs.name.to_text().rstrip(".").lower()
    return aa, None


def _failed(name: str, rdtype: str, reason: str, ftype: str, chain: tuple[str, ...] = ()) -> DnsAnswer:
    return DnsAnswer(name.rstrip("."), rdtype, "failed", failure=reason, failure_type=ftype, cname_chain=chain)


def _loop_in_errors(e: dns.resolver.NoNameservers, name: str) -> tuple[str, ...] | None:
    """The CNAME loop in a response dnspython refused with ChainTooLong, followed from `name`."""
    for err in e.kwargs.get("errors", []) or []:
        resp = err[4] if len(err) > 4 else None
        if not isinstance(err[3], dns.message.ChainTooLong) or not isinstance(resp, dns.message.Message):
            continue
        targets = {rs.name.to_text().rstrip(".").lower(): r.target.to_text().rstrip(".").lower()
                   for rs in resp.answer if rs.rdtype == dns.rdatatype.CNAME for r in rs}
        seen = [name.rstrip(".").lower()]
        while seen[-1] in targets:
            nxt = targets[seen[-1]]
            seen.append(nxt)
            if nxt in seen[:-1]:
                return tuple(seen)
        return tuple(seen)
    return None


def _no_ns_reason(e: dns.resolver.NoNameservers) -> str:
    parts = []
    for err in e.kwargs.get("errors", []) or []:
        # (server, tcp, port, exception-or-message, response)
        server, tcp, port, what = str(err[0]), err[1], err[2], err[3]
        resp = err[4] if len(err) > 4 else None
        if isinstance(resp, dns.message.Message):
            what = dns.rcode.to_text(resp.rcode())
        elif isinstance(what, dns.message.Truncated):
            what = "truncated answer (TC)"
        elif isinstance(what, BaseException):
            what = str(what) or type(what).__name__
        server = server.split(":", 1)[1] if server.startswith("Do53:") else server
        if "@" not in server:
            server = f"{server}@{port}"
        parts.append(f"{server} ({'TCP' if tcp else 'UDP'}): {what}")
    return "no usable answer: " + ("; ".join(parts) if parts else str(e))
