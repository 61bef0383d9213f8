"""Adoption: existing Cloudflare resources a stack takes over (Pulumi's `import` option) instead of creating.

An existing zone that already has rules in a phase refuses a second entry-point ruleset for that phase
("A similar configuration with rules already exists", pulumi-cloudflare #782), and an existing DNS
record at the same name and type collides with a new one. `zone.adopt` names those resources by id;
the program passes `import_` with the provider's import id, so `pulumi up` takes them into the
stack's state and then makes them match the declared inputs.

Import ids (pulumi-cloudflare 6.x, from the Terraform provider's ImportState):
  Ruleset    zones/<zone_id>/<ruleset_id>   (internal/services/ruleset/resource.go)
  DnsRecord  <zone_id>/<dns_record_id>      (pulumi_cloudflare/dns_record.py, "## Import")
Both contain the zone id, so adoption needs `zone.id`: a zone looked up by name has no id until
deploy time, and an import id must be known when the program registers the resource.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# The entry-point phases the program declares (infra/edgerules.py PHASES; a test keeps them equal).
EntryPointPhase = Literal[
    "http_request_dynamic_redirect", "http_request_firewall_managed", "http_ratelimit",
    "http_request_cache_settings", "http_response_headers_transform",
]


def _cloudflare_id(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", value):
        raise ValueError("is not a Cloudflare id (32 lowercase hex characters)")
    return value


CloudflareId = Annotated[str, AfterValidator(_cloudflare_id)]

# "<name> <TYPE>", or "<name> <TYPE> <content>" when several planned records share a name and type.
_RECORD_KEY = re.compile(r"^(?P<name>\S+)\s+(?P<type>[A-Za-z]+)(?:\s+(?P<content>.+))?$")


class Adopt(BaseModel):
    """Existing resources to import by id: entry-point rulesets by phase, DNS records by "name TYPE"."""

    # The same rules as infra.spec.model.Model (not imported: model.py imports this module).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True)

    rulesets: dict[EntryPointPhase, CloudflareId] = Field(default_factory=dict)
    records: dict[str, CloudflareId] = Field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rulesets or self.records)


# What this module reads of infra.spec.model.Zone and infra.spec.records.PlannedRecord; declared
# here because model.py imports this module (importing them back would be a cycle).
class Zone(Protocol):
    @property
    def id(self) -> str | None: ...
    @property
    def create(self) -> bool: ...
    @property
    def adopt(self) -> Adopt: ...


class PlannedRecord(Protocol):
    name: str
    type: str
    content: str

    @property
    def key(self) -> str: ...


def ruleset_import_id(zone_id: str, ruleset_id: str) -> str:
    return f"zones/{zone_id}/{ruleset_id}"


def record_import_id(zone_id: str, record_id: str) -> str:
    return f"{zone_id}/{record_id}"


def _matches(key: str, planned: list[PlannedRecord]) -> list[PlannedRecord] | None:
    """The planned records a "name TYPE [content]" key names (None: the key is malformed)."""
    m = _RECORD_KEY.match(key.strip())
    if m is None:
        return None
    name, type_, content = m["name"].lower().rstrip("."), m["type"].upper(), m["content"]
    return [r for r in planned if r.name == name and r.type == type_
            and (content is None or r.content == content.strip())]


def phases_without_rules(spec) -> dict[str, str]:
    """Entry-point phases the program declares no ruleset for, with the reason: the only phases
    whose rule builders (infra/edgerules.py) can return nothing; a test keeps the two in step."""
    out = {}
    if not (spec.waf.enabled and spec.waf.managed_rulesets):
        out["http_request_firewall_managed"] = "the WAF is off or has no managed rulesets"
    if not spec.rate_limits:
        out["http_ratelimit"] = "no rateLimits are declared"
    return out


def adopt_problems(zone: Zone, planned: list[PlannedRecord], empty_phases: dict[str, str]) -> list[tuple[tuple, str]]:
    """What is wrong with zone.adopt: no zone id to build import ids from, a phase the program
    declares no ruleset for, record keys that name no planned record (or several)."""
    adopt = zone.adopt
    if not adopt:
        return []
    loc = ("zone", "adopt")
    if zone.create:
        return [(loc, "a zone this stack creates has nothing to adopt: remove adopt, or use the existing zone's id")]
    errors = [(loc + ("rulesets", phase), f"this stack declares no {phase} ruleset ({empty_phases[phase]}): "
                                          "nothing would adopt it")
              for phase in adopt.rulesets if phase in empty_phases]
    if not zone.id:
        errors.append((loc, "adopting needs the zone's id (zone.id): the import ids contain it, and a zone "
                            "looked up by name has no id until deploy time (find it on the zone's Overview page "
                            "in the dashboard, or GET /client/v4/zones?name=<domain>)"))
    for key in adopt.records:
        found = _matches(key, planned)
        where = loc + ("records", key)
        if found is None:
            errors.append((where, f"{key!r} is not 'name TYPE' (e.g. 'app.example.com A')"))
        elif not found:
            errors.append((where, f"{key!r} names no record this stack publishes"))
        elif len(found) > 1:
            contents = ", ".join(repr(r.content) for r in found)
            errors.append((where, f"{key!r} names {len(found)} records ({contents}): add the content, "
                                  f"e.g. '{key} {found[0].content}'"))
    return errors


def adopted_rulesets(zone: Zone) -> dict[str, str]:
    """Import id per adopted phase (empty without zone.id: the spec reports that)."""
    if not zone.id:
        return {}
    return {phase: ruleset_import_id(zone.id, rid) for phase, rid in zone.adopt.rulesets.items()}


def adopted_records(zone: Zone, planned: list[PlannedRecord]) -> dict[str, str]:
    """Import id per adopted record, by PlannedRecord.key (the record's resource name)."""
    if not zone.id:
        return {}
    out = {}
    for key, rid in zone.adopt.records.items():
        found = _matches(key, planned) or []
        if len(found) == 1:
            out[found[0].key] = record_import_id(zone.id, rid)
    return out
