"""Values reserved for documentation, and the example stack's fake ones: the one place that knows them.

A stack copied from stacks/Pulumi.example.yaml that still carries them would send production to
nobody's servers: RFC 5737 / RFC 3849 addresses as origins, an RFC 2606 domain, AWS's documentation
account 123456789012 in a Lambda ARN, the example's fake Cloudflare account id and DKIM key, alerts
to an inbox nobody reads. Pure predicates over strings (no Pulumi import): the plan's advisories
(infra/placeholders.py) and the policy rule `example-values-replaced` (policies/rules/apply.py)
judge with these same functions, so `launchready plan` and the gate never disagree on what a
placeholder is.
"""
from __future__ import annotations

import base64
import ipaddress
import re

# RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation ranges.
DOC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
# RFC 2606 second-level names and reserved top-level domains (the match is the reserved part).
_RESERVED_DOMAIN = re.compile(r"(?:^|\.)((?:example\.(?:com|net|org))|(?:[a-z0-9-]+\.(?:example|test|invalid)))\.?$")
# The account id AWS's documentation uses in every example ARN.
DOC_ACCOUNT = "123456789012"
# The example stack's fake Cloudflare account id.
FAKE_ACCOUNT_IDS = frozenset({"0123456789abcdef0123456789abcdef"})


def is_doc_ip(text: str) -> bool:
    """True for an address in a documentation range (RFC 5737 / RFC 3849)."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return any(ip in net for net in DOC_NETS)


def reserved_domain(name: str) -> str | None:
    """The reserved part of a host name ('app.example.com' → 'example.com'), or None."""
    m = _RESERVED_DOMAIN.search(name.strip().lower())
    return m.group(1) if m else None


def address_host(address: str) -> str:
    """The host of an alert address: 'oncall@x.org' → 'x.org', 'https://h.x.org/p' → 'h.x.org'."""
    text = re.sub(r"^mailto:", "", address.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.IGNORECASE)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    host = text.rpartition("@")[2]
    return host.split(":", 1)[0].lower()


def is_fake_account_id(text: str) -> bool:
    """The example's Cloudflare account id."""
    return text.strip().lower() in FAKE_ACCOUNT_IDS


def is_doc_account_function(text: str) -> bool:
    """A Lambda function ARN in AWS's documentation account (the example's rotation Lambda)."""
    return text.startswith("arn:") and f":{DOC_ACCOUNT}:" in text and ":function:" in text


def _tlv(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, start of value, end of value) of the DER element at `at`, or None if malformed."""
    if at + 2 > len(data):
        return None
    tag, first = data[at], data[at + 1]
    at += 2
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4 or at + count > len(data):
            return None
        length, at = int.from_bytes(data[at:at + count], "big"), at + count
    else:
        length = first
    return (tag, at, at + length) if at + length <= len(data) else None


def is_public_key_der(der: bytes) -> bool:
    """The shape of a SubjectPublicKeyInfo (RFC 5280): SEQUENCE { SEQUENCE { OID, ... }, BIT STRING }
    spanning the whole input. Judged from the bytes alone (no cryptography import), so the plan and
    the gate give the same answer wherever they run."""
    outer = _tlv(der, 0)
    if outer is None or outer[0] != 0x30 or outer[2] != len(der):
        return False
    algorithm = _tlv(der, outer[1])
    if algorithm is None or algorithm[0] != 0x30:
        return False
    oid = _tlv(der, algorithm[1])
    key = _tlv(der, algorithm[2])
    return (oid is not None and oid[0] == 0x06 and oid[2] > oid[1]
            and key is not None and key[0] == 0x03 and key[2] == outer[2] and key[2] - key[1] > 1)


def dkim_key_is_fake(content: str) -> bool:
    """A DKIM TXT value whose p= is not a public key (the example ships an obvious fake)."""
    m = re.search(r"p=([A-Za-z0-9+/=\s\"]+)", content)
    if not m:
        return False
    b64 = re.sub(r"[\s\"]", "", m.group(1))
    if "FAKE" in b64.upper():
        return True
    try:
        der = base64.b64decode(b64, validate=True)
    except ValueError:
        return True
    if re.search(r"(?:^|[;\s\"])k=ed25519\b", content, flags=re.IGNORECASE):
        return len(der) != 32  # RFC 8463: the bare 32-byte key, not a SubjectPublicKeyInfo
    return not is_public_key_der(der)


__all__ = ["DOC_ACCOUNT", "DOC_NETS", "FAKE_ACCOUNT_IDS", "address_host", "dkim_key_is_fake",
           "is_doc_account_function", "is_doc_ip", "is_fake_account_id", "is_public_key_der", "reserved_domain"]
