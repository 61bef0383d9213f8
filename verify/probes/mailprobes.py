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

from infra.knowledge.mailrecords import (
    SpfTerm,
    announces,
    dmarc_raw_tag,
    is_dkim_key,
    is_spf,
    spf_all,
    spf_authorises,
    spf_delegations,
    spf_modifier,
    spf_terms,
)

from ..context import FetchedPolicy, PolicyFetchError
from ..dnsclient import DnsAnswer, DnsQueryError
from ..registry import probe

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
    parsed: dict | None = None           # checkdmarc's parse of the single record (partial if a limit was hit)
    dns_lookups: int | None = None       # at least this many (counting stops where the limit is exceeded)
    void_lookups: int | None = None
    error: str | None = None             # checkdmarc's error (syntax, loops, limits, include permerror)
    error_type: str | None = None
    warnings: tuple[str, ...] = ()
    limit: str | None = None             # "lookups" | "void" when an RFC 7208 4.6.4 limit is exceeded

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    @property
    def limit_exceeded(self) -> str | None:
        if self.limit:
            return self.limit
        if self.dns_lookups is not None and self.dns_lookups > 10:
            return "lookups"
        if self.void_lookups is not None and self.void_lookups > 2:
            return "void"
        return None

    def all_qualifier(self) -> str:
        """'-all' | '~all' | '?all' | '+all'; a record without `all` (and no redirect) is neutral.
        With `redirect=` (and no `all`) this is the redirect target's, as receivers evaluate it."""
        if not self.parsed:
            return "?"
        return {"fail": "-all", "softfail": "~all", "neutral": "?all", "pass": "+all"}.get(self.parsed.get("all"), "?all")

    def open_includes(self) -> list[str]:
        """include: chains whose record ends in +all (or authorises 0.0.0.0/0 or ::/0): everyone
        matches the include, so everyone passes SPF whatever this record's own `all` says."""
        found: list[str] = []

        def walk(parsed: dict | None, path: list[str]) -> None:
            if not parsed:
                return
            if path and (parsed.get("all") == "pass" or any(
                    m.get("mechanism") in ("ip4", "ip6") and m.get("action") == "pass"
                    and str(m.get("value", "")).endswith("/0") for m in parsed.get("mechanisms", []))):
                found.append(" -> ".join(path))
                return
            for m in parsed.get("mechanisms", []):
                if m.get("mechanism") == "include" and m.get("action") == "pass" and len(path) < 10:
                    walk(m.get("parsed"), [*path, f"include:{m.get('value')}"])
            red = parsed.get("redirect")
            if isinstance(red, dict) and path and len(path) < 10:
                walk(red.get("parsed"), [*path, f"redirect={red.get('domain')}"])

        walk(self.parsed, [])
        return found

    def redirect(self) -> str | None:
        """The redirect= target, when it takes effect (RFC 7208 6.1: ignored if the record has `all`)."""
        if not self.record:
            return None
        terms = spf_terms(self.record)
        if spf_all(terms) is not None:
            return None
        return spf_modifier(terms, "redirect")

    def includes(self) -> list[str]:
        """include: and redirect= targets of the record itself (both delegate to a provider's list)."""
        if not self.record:
            return []
        out = [t.value for t in spf_terms(self.record) if t.name == "include"]
        r = self.redirect()
        return out + ([r] if r else [])

    def other_terms(self) -> list[SpfTerm]:
        """Authorising terms other than include/all/modifiers: a, mx, ptr, ip4, ip6, exists."""
        if not self.record:
            return []
        return [t for t in spf_terms(self.record)
                if t.qualifier == "+" and t.name in ("a", "mx", "ptr", "ip4", "ip6", "exists")]


def _spf_texts(ans: DnsAnswer) -> list[str]:
    return [t for t in ans.texts() if is_spf(t)]


def _parse_spf(ctx, record: str, name: str, ignore: bool) -> dict:
    return cd_spf.parse_spf_record(record, name, ignore_too_many_lookups=ignore,
                                   nameservers=ctx.dns.do53(), timeout=ctx.timeout, retries=0)


@probe("spf")
def spf(ctx, name: str) -> SpfObservation:
    ans = ctx.dns.query(name, "TXT").checked()
    records = tuple(_spf_texts(ans)) if ans.status == "ok" else ()
    if len(records) != 1:
        return SpfObservation(name=name, records=records)
    record = records[0]
    limit, lookups, void, err, err_type = None, None, None, None, None
    try:
        # Strict first: checkdmarc's limit exceptions carry the count, and a nested include that
        # overflows is otherwise dropped from the partial parse with no count at all.
        parsed = _parse_spf(ctx, record, name, ignore=False)
    except (cd_spf.SPFTooManyDNSLookups, cd_spf.SPFTooManyVoidDNSLookups) as e:
        limit = "lookups" if isinstance(e, cd_spf.SPFTooManyDNSLookups) else "void"
        data = getattr(e, "data", None) or {}
        lookups, void = data.get("dns_lookups"), data.get("void_dns_lookups")
        err, err_type = str(e.args[0] if e.args else e), type(e).__name__
        _raise_if_transport(ctx, record, e)
        try:  # the rest of the record (its `all`, its terms) still matters to the other checks
            parsed = _parse_spf(ctx, record, name, ignore=True)
        except cd_spf.SPFError:
            parsed = {}
    except cd_spf.SPFError as e:
        _raise_if_transport(ctx, record, e)
        return SpfObservation(name=name, records=records, error=str(e.args[0] if e.args else e),
                              error_type=type(e).__name__)
    return SpfObservation(name=name, records=records, parsed=parsed.get("parsed"),
                          dns_lookups=lookups if lookups is not None else parsed.get("dns_lookups"),
                          void_lookups=void if void is not None else parsed.get("void_dns_lookups"),
                          error=err, error_type=err_type, limit=limit,
                          warnings=tuple(parsed.get("warnings", [])))


def _raise_if_transport(ctx, record: str, error: Exception) -> None:
    """An include that could not be *fetched* is a could-not-check, not an invalid SPF record."""
    for target in spf_delegations(spf_terms(record)):
        if "%" not in target:  # a macro is expanded per message: nothing to fetch here
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
    answer_status: str = "ok"               # of the TXT query at _dmarc.<domain>: ok | nxdomain | nodata
    misplaced: tuple[str, ...] = ()         # when missing: names where a DMARC record was published instead

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    def raw_tag(self, name: str) -> str | None:
        """A tag as written in the record, also those checkdmarc drops as removed by RFC 9989 (pct,
        rf, ri): receivers implementing RFC 7489 (most of them today) still honour pct."""
        if not self.record:
            return None
        return dmarc_raw_tag(self.record, name)

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
    texts = [t for t in ans.texts() if announces(t, "DMARC1")] if ans.status == "ok" else []
    if not texts:
        # Where people put it by mistake: the zone name appended twice by a DNS UI, or the apex.
        misplaced = []
        for where in (f"{name}.{domain}", domain):
            other = ctx.dns.query(where, "TXT")
            if other.status == "ok" and any(announces(t, "DMARC1") for t in other.texts()):
                misplaced.append(where)
        return DmarcObservation(name=name, records=(), answer_status=ans.status, misplaced=tuple(misplaced))
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


# kind -> (is the record at its own name, is a record elsewhere a misplaced copy of it): an SPF
# elsewhere counts only when it authorises senders (not a non-sending host's `v=spf1 -all`)
_NEAR_MISS_TESTS = {"dkim": (is_dkim_key, is_dkim_key), "spf": (is_spf, spf_authorises)}
NEAR_MISS_LIMIT = 4  # queries per missing record, at most


@probe("near-miss")
def near_miss(ctx, kind: str, name: str, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """Where a `kind` record (dkim | spf) missing at `name` was published instead, among a few usual
    mistakes (candidates). Only when the record is missing at `name`; a hint, so best effort: a
    candidate whose query fails is passed over, never an ERROR."""
    present, want = _NEAR_MISS_TESTS[kind]
    primary = ctx.dns.query(name, "TXT")
    if primary.status == "failed" or (primary.status == "ok" and any(present(t) for t in primary.texts())):
        return ()
    found = []
    for where in candidates[:NEAR_MISS_LIMIT]:
        ans = ctx.dns.query(where, "TXT")
        if ans.status == "ok" and any(want(t) for t in ans.texts()):
            found.append(where)
    return tuple(found)


@probe("mta-sts-policy")
def mta_sts_policy(ctx, domain: str) -> FetchedPolicy:
    if ctx.fetcher is None:
        raise PolicyFetchError("no HTTPS policy fetcher configured")
    return ctx.fetcher.fetch(domain)


PROBES = (spf, dmarc, near_miss, mta_sts_policy)
