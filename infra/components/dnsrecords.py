"""DNS records: every record of infra.spec.planned_records, plus DNSSEC."""
from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping

import pulumi
import pulumi_cloudflare as cloudflare

from infra.spec import PlannedRecord


def record_args(rec: PlannedRecord, zone_id: pulumi.Input[str]) -> dict:
    """The DnsRecord inputs for one planned record (CAA goes in structured `data`)."""
    args: dict = dict(zone_id=zone_id, name=rec.name, type=rec.type, ttl=rec.ttl, proxied=rec.proxied)
    if rec.comment:
        args["comment"] = rec.comment
    if rec.type == "CAA":
        flags, tag, value = shlex.split(rec.content)
        args["data"] = {"flags": int(flags), "tag": tag, "value": value}
    else:
        args["content"] = rec.content
    if rec.priority is not None:
        args["priority"] = rec.priority
    return args


class DnsRecords(pulumi.ComponentResource):
    """A set of records in one zone. Other components (mail) add records through `add`."""

    def __init__(self, name: str, zone_id: pulumi.Input[str], records: Iterable[PlannedRecord],
                 opts: pulumi.ResourceOptions | None = None, adopt: Mapping[str, str] | None = None):
        super().__init__("launchready:dns:Records", name, None, opts)
        self._zone_id = zone_id
        # Import id per PlannedRecord.key: existing records at the same name and type are adopted.
        self._adopt = dict(adopt or {})
        self.records: dict[str, cloudflare.DnsRecord] = {}
        for rec in records:
            self.add(rec)
        self.register_outputs({"records": sorted(self.records)})

    def add(self, rec: PlannedRecord, opts: pulumi.ResourceOptions | None = None) -> cloudflare.DnsRecord:
        key = rec.key
        if key in self.records:
            return self.records[key]
        resource = cloudflare.DnsRecord(
            key, **record_args(rec, self._zone_id),
            opts=pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(parent=self, import_=self._adopt.get(key)), opts),
        )
        self.records[key] = resource
        return resource


class Dnssec(pulumi.ComponentResource):
    """DNSSEC on the zone; the DS record is an output for the registrar (Cloudflare Registrar adds it itself)."""

    ds: pulumi.Output[str]

    def __init__(self, name: str, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:dns:Dnssec", name, None, opts)
        dnssec = cloudflare.ZoneDnssec(f"{name}-dnssec", zone_id=zone_id, status="active",
                                       opts=pulumi.ResourceOptions(parent=self))
        self.ds = dnssec.ds
        self.register_outputs({"ds": self.ds})
