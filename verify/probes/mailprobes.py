"""Mail probes. checkdmarc parses SPF (and resolves its includes) and DMARC; every raw record is
fetched through our own DNS client first, so a transport failure is an ERROR and never looks like
"record missing" (checkdmarc folds DNS failures into its not-found errors)."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import checkdmarc.dmarc as cd_dmarc
import checkdmarc.spf as cd_spf
import checkdmarc.utils as cd_utils

from ..context import FetchedPolicy, PolicyFetchError
from ..dnsclient import DnsAnswer, DnsQueryError
from ..engine import probe

# checkdmarc keeps a process-wide answer cache keyed by name only (not by nameserver); the runner
# clears it at the start of each run so two runs against different servers never mix answers.
_CACHE_LOCK = threading.Lock()


def clear_checkdmarc_cache() -> None:
    with _CACHE_LOCK:
        cd_utils.DNS_CACHE.clear()


_TRANSPORT_WORDS = re.compile(r"REFUSED|SERVFAIL|timed out|timeout|All nameservers failed|"
                              r"Network is unreachable|Connection refused|NoNameservers", re.I)


@dataclass(frozen=True)
class SpfObservation:
    name: str
    records: tuple[str, ...]             # every v=spf1 TXT at the name
    parsed: dict | None = None           # checkdmarc's parse of the single record
    dns_lookups: int | None = None
    void_lookups: int | None = None
    error: str | None = None             # checkdmarc's error (syntax, loops, limits, include permerror)
    error_type: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    def all_qualifier(self) -> str:
        """'-all' | '~all' | '?all' | '+all'; a record without `all` (and no redirect) is neutral."""
        if not self.parsed:
            return "?"
        return {"fail": "-all", "softfail": "~all", "neutral": "?all", "pass": "+all"}.get(self.parsed.get("all"), "?all")

    def includes(self) -> list[str]:
        if not self.parsed:
            return []
        out = [m["value"].lower().rstrip(".") for m in self.parsed.get("mechanisms", []) if m.get("mechanism") == "include"]
        if self.parsed.get("redirect"):
            out.append(str(self.parsed["redirect"]).lower().rstrip("."))
        return out


def _spf_texts(ans: DnsAnswer) -> list[str]:
    return [t for t in ans.texts() if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


@probe("spf")
def spf(ctx, name: str) -> SpfObservation:
    ans = ctx.dns.query(name, "TXT").checked()
    records = tuple(_spf_texts(ans)) if ans.status == "ok" else ()
    if len(records) != 1:
        return SpfObservation(name=name, records=records)
    record = records[0]
    try:
        parsed = cd_spf.parse_spf_record(record, name, ignore_too_many_lookups=True,
                                         nameservers=ctx.dns.do53(), timeout=ctx.timeout, retries=0)
    except cd_spf.SPFError as e:
        _raise_if_transport(ctx, record, e)
        return SpfObservation(name=name, records=records, error=str(e.args[0] if e.args else e),
                              error_type=type(e).__name__,
                              dns_lookups=getattr(e, "data", {}).get("dns_lookups") if getattr(e, "data", None) else None)
    err = parsed.get("error")
    return SpfObservation(name=name, records=records, parsed=parsed.get("parsed"),
                          dns_lookups=parsed.get("dns_lookups"), void_lookups=parsed.get("void_dns_lookups"),
                          error=err, error_type="SPFTooManyDNSLookups" if err else None,
                          warnings=tuple(parsed.get("warnings", [])))


def _raise_if_transport(ctx, record: str, error: Exception) -> None:
    """An include that could not be *fetched* is a could-not-check, not an invalid SPF record."""
    for term in record.split()[1:]:
        t = term.lstrip("+-~?").lower()
        for prefix in ("include:", "redirect="):
            if t.startswith(prefix) and "%" not in t:
                target = t[len(prefix):]
                inc = ctx.dns.query(target, "TXT")
                if inc.status == "failed":
                    raise DnsQueryError(f"SPF include {target}: {inc.failure}")
    if _TRANSPORT_WORDS.search(str(error)):
        raise DnsQueryError(f"SPF evaluation hit a DNS failure: {error}")


@dataclass(frozen=True)
class DmarcObservation:
    name: str                               # _dmarc.<domain>
    records: tuple[str, ...]
    tags: dict | None = None                # checkdmarc's parsed tags: {tag: {"value":..., "explicit":...}}
    error: str | None = None
    error_type: str | None = None
    warnings: tuple[str, ...] = ()
    # external report destinations -> answer at <domain>._report._dmarc.<dest>
    authorizations: dict[str, DnsAnswer] = field(default_factory=dict)

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    def tag(self, name: str, default: Any = None) -> Any:
        if not self.tags or name not in self.tags:
            return default
        return self.tags[name].get("value", default)

    def explicit(self, name: str) -> bool:
        return bool(self.tags and name in self.tags and self.tags[name].get("explicit"))

    def report_addresses(self, tag: str = "rua") -> list[str]:
        out = []
        for uri in self.tag(tag, []) or []:
            if isinstance(uri, dict):
                out.append(f"{uri.get('scheme', 'mailto')}:{uri.get('address')}")
        return out


def is_external(domain: str, dest: str) -> bool:
    """RFC 9990 4: a destination outside the domain's organizational domain (PSL approximation)."""
    return cd_utils.get_base_domain(domain) != cd_utils.get_base_domain(dest)


@probe("dmarc")
def dmarc(ctx, domain: str) -> DmarcObservation:
    name = f"_dmarc.{domain}"
    ans = ctx.dns.query(name, "TXT").checked()
    texts = [t for t in ans.texts() if t.replace(" ", "").lower().startswith("v=dmarc1")] if ans.status == "ok" else []
    if len(texts) != 1:
        return DmarcObservation(name=name, records=tuple(texts))
    record = texts[0]
    try:
        parsed = cd_dmarc.parse_dmarc_record(record, domain, nameservers=ctx.dns.do53(),
                                             timeout=ctx.timeout, retries=0)
    except cd_dmarc.DMARCError as e:
        return DmarcObservation(name=name, records=(record,), error=str(e), error_type=type(e).__name__)
    obs_tags = parsed["tags"]
    auths: dict[str, DnsAnswer] = {}
    for tag in ("rua", "ruf"):
        for uri in (obs_tags.get(tag, {}) or {}).get("value", []) or []:
            if uri.get("scheme") != "mailto":
                continue
            dest = uri["address"].split("@")[-1].lower()
            if is_external(domain, dest) and dest not in auths:
                auths[dest] = ctx.dns.query(f"{domain}._report._dmarc.{dest}", "TXT")
    return DmarcObservation(name=name, records=(record,), tags=obs_tags,
                            warnings=tuple(parsed.get("warnings", [])), authorizations=auths)


@probe("mta-sts-policy")
def mta_sts_policy(ctx, domain: str) -> FetchedPolicy:
    if ctx.fetcher is None:
        raise PolicyFetchError("no HTTPS policy fetcher configured")
    return ctx.fetcher.fetch(domain)
