"""TLS at the edge: one cloudflare.ZoneSetting per setting id (ZoneSettingsOverride is gone in 6.x)."""
from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from infra.edgerules import zone_settings
from infra.spec.model import Tls


class TlsSettings(pulumi.ComponentResource):
    def __init__(self, name: str, zone_id: pulumi.Input[str], tls: Tls,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:edge:TlsSettings", name, None, opts)
        self.settings = {
            setting_id: cloudflare.ZoneSetting(
                f"{name}-{setting_id.replace('_', '-')}", zone_id=zone_id, setting_id=setting_id, value=value,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for setting_id, value in zone_settings(tls).items()
        }
        self.register_outputs({"settings": sorted(self.settings)})
