"""TLS at the edge: one cloudflare.ZoneSetting per setting id (ZoneSettingsOverride is gone in 6.x)."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from infra.spec.model import Tls


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def zone_settings(tls: Tls) -> dict[str, object]:
    """setting id -> value, exactly as the Cloudflare API names them."""
    hsts = tls.hsts
    return {
        # strict: Cloudflare validates the origin certificate; flexible would send plaintext to the origin.
        "ssl": tls.ssl_mode,
        "min_tls_version": tls.min_version,
        "tls_1_3": _on(tls.tls13),
        "always_use_https": _on(tls.always_use_https),
        "automatic_https_rewrites": _on(tls.automatic_https_rewrites),
        # HSTS lives in security_header, with snake_case keys inside the value.
        "security_header": {
            "strict_transport_security": {
                "enabled": hsts.enabled,
                "max_age": hsts.max_age,
                "include_subdomains": hsts.include_subdomains,
                "preload": hsts.preload,
                "nosniff": hsts.nosniff,
            }
        },
    }


class TlsSettings(pulumi.ComponentResource):
    def __init__(self, name: str, zone_id: pulumi.Input[str], tls: Tls,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("launchready:edge:TlsSettings", name, None, opts)
        self.settings = {
            setting_id: cloudflare.ZoneSetting(
                f"{name}-{setting_id.replace('_', '-')}", zone_id=zone_id, setting_id=setting_id, value=value,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for setting_id, value in zone_settings(tls).items()
        }
        self.register_outputs({"settings": sorted(self.settings)})
