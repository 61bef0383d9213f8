"""The DNS records a spec publishes: the record type, TXT and CAA content, and the edge's records.

infra declares exactly these (plus records known only after apply, such as SES DKIM tokens),
the spec validator checks them for conflicts, and verify expects them. All of them together, edge
and mail, are infra.spec.spec.planned_records.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.knowledge.certificates import CA_DOMAINS

if TYPE_CHECKING:
    from .model import SpecView

TXT_STRING_MAX = 255           # bytes per character-string (RFC 1035 §3.3)


@dataclass(frozen=True)
class PlannedRecord:
    name: str
    type: str
    content: str
    ttl: int = 1  # 1 = automatic (Cloudflare)
    proxied: bool = False
    priority: int | None = None
    # Where the record comes from, for messages: "hosts[1]", "records[0]", "caa", "mail.spf".
    source: str = ""
    comment: str = ""

    @property
    def key(self) -> str:
        """A stable, readable identity used for Pulumi resource names."""
        digest = hashlib.sha1(f"{self.content}|{self.priority}".encode()).hexdigest()[:6]
        return f"{self.type.lower()}-{self.name}-{digest}"


def txt_content(value: str) -> str:
    """Cloudflare TXT content: as is when it fits one string, else 255-byte quoted strings."""
    data = value.encode()
    if len(data) <= TXT_STRING_MAX and '"' not in value:
        return value
    chunks = [data[i:i + TXT_STRING_MAX].decode() for i in range(0, len(data), TXT_STRING_MAX)]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def txt_value(content: str) -> str:
    """The inverse of txt_content: what a resolver hands back joined."""
    if not content.startswith('"'):
        return content
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', content)).replace('\\"', '"').replace("\\\\", "\\")


def caa_content(tag: str, value: str, flags: int = 0) -> str:
    return f'{flags} {tag} "{value}"'


def edge_records(spec: SpecView) -> list[PlannedRecord]:
    """Host records, extra records and CAA."""
    out: list[PlannedRecord] = []
    for i, host in enumerate(spec.hosts):
        out.append(PlannedRecord(
            name=host.name, type=host.record_type, content=host.origin,
            ttl=1 if host.proxied else host.ttl, proxied=host.proxied, source=f"hosts[{i}]",
            comment=f"portal host ({'proxied' if host.proxied else 'DNS only'})",
        ))
    out += _group_records(spec)
    for i, rec in enumerate(spec.records):
        out.append(PlannedRecord(
            name=rec.name, type=rec.type, content=rec.content, ttl=rec.ttl, proxied=rec.proxied,
            priority=rec.priority, source=f"records[{i}]", comment="declared record",
        ))
    for issuer in spec.caa:
        out.append(PlannedRecord(name=spec.domain, type="CAA", content=caa_content("issue", issuer),
                                 source="caa", comment="CAA: who may issue certificates"))
    if spec.caa:
        # Wildcard issuance only for the CAs of the tenant groups' certificates (*.portal.example.com);
        # a portal without tenant groups needs none. Only the declared CAs may issue at all.
        wild = sorted({g.certificate_authority for g in spec.tenant_groups if g.needs_certificate(spec.domain)})
        for issuer in [CA_DOMAINS[ca] for ca in wild] or [";"]:
            out.append(PlannedRecord(name=spec.domain, type="CAA", content=caa_content("issuewild", issuer), source="caa",
                                     comment="CAA: wildcard certificates for tenant groups" if issuer != ";" else "CAA: no wildcard certificates"))
    return out


# How a tenant group's records are recognised: by their comment in the declared resources (plan view,
# policy pack), by their source in the launch contract (handover report, verify).
TENANT_COMMENT = "tenant group "


def tenant_group_of(comment: str, name: str) -> str:
    """The group a per-tenant record belongs to, from its comment ("" for a wildcard or any other record)."""
    if not comment.startswith(TENANT_COMMENT) or name.startswith("*."):
        return ""
    return comment[len(TENANT_COMMENT):].split(" ", 1)[0]


def is_per_tenant(source: str, name: str) -> bool:
    """A record of one tenant of an explicit group (its wildcard and exception markers are not)."""
    return source.startswith("tenantGroups[") and not source.endswith(".except") and not name.startswith("*.")


def _group_records(spec: SpecView) -> list[PlannedRecord]:
    """A tenant group's records: one wildcard record, or one per tenant; an exception that is no
    declared host gets a TXT marker, which stops the wildcard answering for its name (RFC 4592)."""
    out: list[PlannedRecord] = []
    declared = {h.name for h in spec.hosts} | {r.name for r in spec.records}
    for i, g in enumerate(spec.tenant_groups):
        source, ttl = f"tenantGroups[{i}]", 1 if g.proxied else g.ttl
        names = [g.pattern] if g.wildcard else g.hosts
        comment = f"{TENANT_COMMENT}{g.name} ({'proxied' if g.proxied else 'DNS only'})"
        out += [PlannedRecord(name=n, type=g.record_type, content=g.origin, ttl=ttl, proxied=g.proxied,
                              source=source, comment=comment) for n in names]
        for label in g.exceptions:
            name = g.host_name(label)
            if name not in declared:
                out.append(PlannedRecord(name=name, type="TXT", content=f"launchready: not served by {g.pattern}",
                                         source=f"{source}.except", comment="keeps the tenant wildcard off this name"))
    return out

