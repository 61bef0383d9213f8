"""The Cloudflare zone the portal lives in: looked up by name or id, or created."""
from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from infra.spec import Spec


class Zone(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]

    def __init__(self, name: str, spec: Spec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:edge:Zone", name, None, opts)
        zone = spec.zone
        if zone.create:
            # A new zone: Cloudflare assigns nameservers that the registrar must delegate to.
            created = cloudflare.Zone(
                f"{name}-zone", name=spec.domain, account={"id": zone.account_id}, type="full",
                opts=pulumi.ResourceOptions(parent=self, protect=spec.production),
            )
            self.zone_id = created.id
            self.name_servers = created.name_servers
        elif zone.id:
            self.zone_id = pulumi.Output.from_input(zone.id)
            self.name_servers = pulumi.Output.from_input([])
        else:
            # An existing zone found by name: the usual case when the domain is already on Cloudflare.
            found = cloudflare.get_zone_output(filter={"name": zone.name or spec.domain},
                                               opts=pulumi.InvokeOutputOptions(parent=self))
            # The data source's computed `id` is the zone id; `zone_id` is its optional lookup input and
            # is not guaranteed to be filled when the zone is found by name (only the mocks always set it).
            self.zone_id = pulumi.Output.all(found.zone_id, found.id).apply(lambda z: z[0] or z[1])
            self.name_servers = found.name_servers
        self.register_outputs({"zoneId": self.zone_id})
