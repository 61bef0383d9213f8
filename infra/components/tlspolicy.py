"""TLS at the edge: one cloudflare.ZoneSetting per setting id (ZoneSettingsOverride is gone in 6.x)."""
from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from infra.edgerules import zone_settings
from infra.knowledge.certificates import DEFAULT_VALIDITY_DAYS
from infra.spec.model import Tls
from infra.spec.tenantspec import TenantGroup


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


def certificate_pack_args(group: TenantGroup, apex: str) -> dict:
    """An advanced certificate for a tenant group below a subdomain (Universal SSL covers only the
    apex and `*.apex`). The API wants the zone apex among the hosts (at most 50) and TXT validation
    for a wildcard; it needs the Advanced Certificate Manager add-on."""
    return dict(type="advanced", hosts=[apex, group.domain, group.pattern], validation_method="txt",
                validity_days=DEFAULT_VALIDITY_DAYS, certificate_authority=group.certificate_authority,
                cloudflare_branding=False)


class TenantCertificates(pulumi.ComponentResource):
    """One advanced certificate per tenant group that Universal SSL does not cover."""

    def __init__(self, name: str, zone_id: pulumi.Input[str], groups: list[TenantGroup], apex: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:edge:TenantCertificates", name, None, opts)
        self.packs = {
            g.name: cloudflare.CertificatePack(f"{name}-{g.name}", zone_id=zone_id, **certificate_pack_args(g, apex),
                                               opts=pulumi.ResourceOptions(parent=self))
            for g in groups if g.needs_certificate(apex)
        }
        self.register_outputs({"packs": sorted(self.packs)})
