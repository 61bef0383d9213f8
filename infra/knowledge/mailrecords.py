"""Mail-authentication records as text: tokenizers and small parsers shared by policies and verify.

SPF terms (RFC 7208), tag lists (RFC 6376 3.2) as DKIM keys and DMARC records write them, MTA-STS
TXT records and policy files (RFC 8461) and TLS-RPT records (RFC 8460). Pure: standard library only,
no DNS, no project imports. Nothing here raises on input text: a parser returns what it could read
plus a tuple of errors, a tokenizer returns fewer tokens. Strictness (what a receiver accepts, what
the stack declares) is judged by the callers; full validation of MTA-STS and TLS-RPT stays with
checkdmarc in verify.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# ------------------------------------------------------------------ which record is it


def is_spf(text: str) -> bool:
    """RFC 7208 4.5: a TXT string is an SPF record when it is `v=spf1` alone or followed by a space."""
    t = text.lower()
    return t == "v=spf1" or t.startswith("v=spf1 ")


def announces(text: str, version: str) -> bool:
    """Whether a TXT string starts with `v=<version>` (DMARC1, DKIM1, STSv1, TLSRPTv1), ignoring spaces
    and case: how a reader picks the candidate records at a name before parsing them."""
    return text.replace(" ", "").lower().startswith(f"v={version}".lower())


# ------------------------------------------------------------------ SPF terms


@dataclass(frozen=True)
class SpfTerm:
    """One top-level term of an SPF record, as written (RFC 7208 4.6.1: terms are space-separated)."""

    qualifier: str      # "+", "-", "~", "?" ("+" when omitted); "=" for modifiers
    name: str           # mechanism or modifier name, lowercased: include, a, mx, ip4, redirect, exp, ...
    value: str          # the argument after ':' / '=' ('' when absent), lowercased, trailing dot dropped

    @property
    def text(self) -> str:
        if self.qualifier == "=":
            return f"{self.name}={self.value}"
        return f"{self.name}:{self.value}" if self.value else self.name


SPF_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$")


def spf_terms(record: str) -> list[SpfTerm]:
    """The record's own terms, after the version (no include resolution): what the zone owner wrote
    at this name. Works on any text, also records a full parser rejects (limits, syntax)."""
    out = []
    for raw in record.split()[1:]:
        t = raw.strip().lower()
        q = "+"
        if t[:1] in "+-~?":
            q, t = t[0], t[1:]
        m = _MODIFIER.match(t)
        if m and m.group(1) not in SPF_MECHANISMS:
            out.append(SpfTerm("=", m.group(1), m.group(2).rstrip(".")))
            continue
        name = re.split(r"[:/]", t, maxsplit=1)[0]
        value = t.split(":", 1)[1] if ":" in t else ""
        out.append(SpfTerm(q, name, value.rstrip(".")))
    return out


def spf_all(terms: list[SpfTerm]) -> str | None:
    """The qualifier of the record's first `all` ('+', '-', '~', '?'), or None when it has none."""
    return next((t.qualifier for t in terms if t.qualifier != "=" and t.name == "all"), None)


def spf_modifier(terms: list[SpfTerm], name: str) -> str | None:
    """The value of a modifier (redirect, exp), or None."""
    return next((t.value for t in terms if t.qualifier == "=" and t.name == name), None)


def spf_delegations(terms: list[SpfTerm]) -> list[str]:
    """Targets of include: mechanisms (any qualifier) and of redirect=, in record order (empty ones dropped)."""
    return [t.value for t in terms if t.value and (
        (t.name == "include" and t.qualifier != "=") or (t.name == "redirect" and t.qualifier == "="))]


# ------------------------------------------------------------------ tag lists (DKIM, DMARC, MTA-STS, TLS-RPT)

_TAG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TagList:
    """`name=value; name=value` (RFC 6376 3.2): names lowercased, values stripped, in written order."""

    tags: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()

    def first(self, name: str) -> str | None:
        return next((v for k, v in self.tags if k == name), None)

    def as_dict(self) -> dict[str, str]:
        """name -> value; a repeated name keeps its last value."""
        return dict(self.tags)


def parse_tag_list(text: str) -> TagList:
    tags, errors = [], []
    for part in text.split(";"):
        if not part.strip():
            continue
        k, sep, v = part.partition("=")
        k = k.strip().lower()
        if not sep:
            errors.append(f"{part.strip()!r} is not name=value")
            continue
        if not _TAG_NAME.match(k):
            errors.append(f"{k!r} is not a tag name")
        elif any(k == seen for seen, _ in tags):
            errors.append(f"tag {k} appears twice")
        tags.append((k, v.strip()))
    return TagList(tuple(tags), tuple(errors))


def format_tag_list(tags) -> str:
    """The inverse of parse_tag_list for well-formed (name, value) pairs."""
    return "; ".join(f"{k}={v}" for k, v in tags)


def colon_list(value: str) -> list[str]:
    """A colon-separated tag value (DKIM t=, h=, s=): items stripped and lowercased, empties dropped."""
    return [x.strip().lower() for x in value.split(":") if x.strip()]


def dkim_tags(text: str) -> dict[str, str]:
    """A DKIM key record's tags (last wins). Whitespace inside values is dropped: a long p= is often
    published with spaces where a DNS UI split it (RFC 6376 3.6.1 allows folding whitespace)."""
    return {k: "".join(v.split()) for k, v in parse_tag_list(text).tags}


def looks_like_dkim_key(text: str) -> bool:
    """A TXT string at a selector that carries a key (p=), whatever else it says."""
    return "p=" in text.replace(" ", "")


def is_dkim_key(text: str) -> bool:
    """A TXT string that is a DKIM key record (v=DKIM1, or any p= at a selector)."""
    return looks_like_dkim_key(text) or announces(text, "DKIM1")


# Where a record missing at its own name is usually published instead (the usual DNS UI mistakes),
# as name -> why. A few names each: only looked at when the record itself is missing.

def dkim_near_misses(selector: str, domain: str, zone: str) -> dict[str, str]:
    """For the selector <selector>._domainkey.<domain> in the zone <zone>."""
    name = f"{selector}._domainkey.{domain}"
    return {
        f"{name}.{zone}": "the zone name was appended twice",
        f"{selector}.domainkey.{domain}": "_domainkey lacks its underscore",
        f"{selector}.{domain}": "the _domainkey label is missing",
    }


def spf_near_misses(name: str, zone: str) -> dict[str, str]:
    """For the SPF record of <name> (the apex or a MAIL FROM domain) in the zone <zone>."""
    return {
        f"www.{name}": "the web host, not the mail domain",
        f"_spf.{name}": "read only through an include: that nothing makes",
        f"{name}.{zone}": "the zone name was appended twice",
    }


def spf_authorises(text: str) -> bool:
    """An SPF record that lets someone send (any term but `all`): a sending domain's record, unlike the
    `v=spf1 -all` of a host that sends no mail."""
    return is_spf(text) and any(t.name != "all" for t in spf_terms(text))


def dmarc_tags(text: str) -> dict[str, str]:
    """A DMARC record's tags as written (last wins), values stripped, names lowercased."""
    return parse_tag_list(text).as_dict()


def dmarc_raw_tag(text: str, name: str) -> str | None:
    """One tag as written (the first one), also tags newer parsers drop (RFC 9989 removed pct, rf, ri)."""
    return parse_tag_list(text).first(name)


# ------------------------------------------------------------------ MTA-STS (RFC 8461) and TLS-RPT (RFC 8460)

_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


@dataclass(frozen=True)
class StsRecord:
    """The _mta-sts TXT record: `v=STSv1; id=<1-32 alphanumerics>`."""

    version: str | None = None
    id: str | None = None
    errors: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_sts_record(text: str) -> StsRecord:
    tl = parse_tag_list(text)
    errors = list(tl.errors)
    version, id_ = tl.first("v"), tl.first("id")
    if not tl.tags or tl.tags[0][0] != "v" or version != "STSv1":
        errors.append("the record must start with v=STSv1")
    if id_ is None:
        errors.append("no id= tag")
    elif not _STS_ID.match(id_):
        errors.append(f"id={id_!r} is not 1-32 letters and digits")
    return StsRecord(version, id_, tuple(errors))


@dataclass(frozen=True)
class StsPolicy:
    """The policy file at https://mta-sts.<domain>/.well-known/mta-sts.txt."""

    version: str | None = None
    mode: str | None = None
    mx: tuple[str, ...] = ()
    max_age: int | None = None
    errors: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


STS_MODES = ("enforce", "testing", "none")
STS_MAX_AGE = 31557600


def parse_sts_policy(text: str) -> StsPolicy:
    """`key: value` lines (CRLF or LF). Unknown keys are ignored (extensions); the four known keys are
    checked for presence and shape, `mx` may repeat."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    errors: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        k, sep, v = line.partition(":")
        k, v = k.strip().lower(), v.strip()
        if not sep or not k:
            errors.append(f"line {n} is not 'key: value'")
        elif k == "mx":
            mx.append(v.lower())
        elif k in ("version", "mode", "max_age"):
            if k in fields:
                errors.append(f"{k} appears twice")
            fields.setdefault(k, v)
    errors += _sts_policy_problems(fields, mx)
    age = fields.get("max_age", "")
    return StsPolicy(fields.get("version"), fields.get("mode"), tuple(mx),
                     int(age) if age.isascii() and age.isdigit() and len(age) <= 10 else None, tuple(errors))


def _sts_policy_problems(fields: dict[str, str], mx: list[str]) -> list[str]:
    errors = []
    if fields.get("version") != "STSv1":
        errors.append("version must be STSv1")
    if fields.get("mode") not in STS_MODES:
        errors.append(f"mode must be one of {', '.join(STS_MODES)}")
    age = fields.get("max_age", "")
    if not (age.isascii() and age.isdigit() and len(age) <= 10 and int(age) <= STS_MAX_AGE):
        errors.append(f"max_age must be a number of seconds up to {STS_MAX_AGE}")
    if not mx and fields.get("mode") in ("enforce", "testing"):
        errors.append("no mx line")
    return errors


def format_sts_policy(mode: str, mx, max_age: int) -> str:
    """A policy file as RFC 8461 3.2 writes it (CRLF line ends)."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return "".join(line + "\r\n" for line in lines)


@dataclass(frozen=True)
class TlsRptRecord:
    """The _smtp._tls TXT record: `v=TLSRPTv1; rua=<uri>[,<uri>...]`."""

    version: str | None = None
    rua: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_tlsrpt(text: str) -> TlsRptRecord:
    tl = parse_tag_list(text)
    errors = list(tl.errors)
    version, rua_text = tl.first("v"), tl.first("rua")
    if not tl.tags or tl.tags[0][0] != "v" or version != "TLSRPTv1":
        errors.append("the record must start with v=TLSRPTv1")
    rua = tuple(u.strip() for u in (rua_text or "").split(",") if u.strip())
    if not rua:
        errors.append("no rua= destination")
    for uri in rua:
        if not uri.lower().startswith(("mailto:", "https://")):
            errors.append(f"rua {uri!r} is neither mailto: nor https:")
    return TlsRptRecord(version, rua, tuple(errors))
