"""TLS rules: the zone's SSL mode, the minimum TLS version, TLS 1.3 and Always Use HTTPS."""
from __future__ import annotations

from ..props import ZONE_SETTING, get, is_setting, num, on
from ..registry import ADVISORY, CRITICAL, HIGH, LOW, MANDATORY, MEDIUM, resource_rule

TLS_ORDER = ["1.0", "1.1", "1.2", "1.3"]


@resource_rule(
    "ssl-mode-not-flexible", area="edge", types=[ZONE_SETTING], severity=CRITICAL, enforcement=MANDATORY,
    description="The zone's SSL mode is never 'off' or 'flexible' (both send visitors' traffic to the origin in plaintext).",
    remediation="""
In stacks/Pulumi.<stack>.yaml set `launchready:tls` → `sslMode: strict`.
'flexible' encrypts only browser→Cloudflare and talks plain HTTP to your origin; 'off' disables HTTPS.
Before switching, give the origin a certificate Cloudflare trusts (a public one, or a free Cloudflare
Origin CA certificate: SSL/TLS → Origin Server in the dashboard), then run `launchready gate` again.""",
    spec_keys=("tls.sslMode", "tls"),
)
def ssl_mode_not_flexible(props, config):
    if is_setting(props, "ssl") and str(get(props, "value", default="")).lower() in ("off", "flexible"):
        yield f"SSL mode is {get(props, 'value')!r}; it must be 'strict'."


@resource_rule(
    "ssl-mode-strict", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=ADVISORY,
    description="The zone's SSL mode is 'strict' (Full (strict)): Cloudflare validates the origin's certificate.",
    remediation="""
'full' encrypts Cloudflare→origin but accepts any certificate, so anyone on the path can impersonate
the origin. Install a valid certificate on the origin (a Cloudflare Origin CA certificate is free),
then set `launchready:tls` → `sslMode: strict` in stacks/Pulumi.<stack>.yaml.""",
    spec_keys=("tls.sslMode", "tls"),
)
def ssl_mode_strict(props, config):
    if is_setting(props, "ssl") and str(get(props, "value", default="")).lower() == "full":
        yield "SSL mode is 'full': the origin certificate is not validated; use 'strict'."


@resource_rule(
    "min-tls-version", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="Visitors must use at least TLS 1.2 (TLS 1.0 and 1.1 are deprecated by RFC 8996).",
    remediation="""
Set `launchready:tls` → `minVersion: "1.2"` (quoted) in stacks/Pulumi.<stack>.yaml. Every browser
released since 2014 supports TLS 1.2; clients that cannot are also unable to reach most of the web.""",
    config={"minVersion": {"type": "string", "enum": TLS_ORDER, "default": "1.2",
                           "description": "Lowest acceptable minimum TLS version."}},
    spec_keys=("tls.minVersion", "tls"),
)
def min_tls_version(props, config):
    if not is_setting(props, "min_tls_version"):
        return
    value = get(props, "value")
    # A number (1.2 written unquoted) reaches the policy as a float: read it as the version it means.
    shown = f"{num(value):.1f}" if num(value) is not None else str(value)
    if shown not in TLS_ORDER or TLS_ORDER.index(shown) < TLS_ORDER.index(config["minVersion"]):
        yield f"minimum TLS version is {shown!r}; it must be {config['minVersion']!r} or higher."


@resource_rule(
    "tls13-enabled", area="edge", types=[ZONE_SETTING], severity=LOW, enforcement=ADVISORY,
    description="TLS 1.3 is enabled at the edge (faster handshakes, no legacy cipher suites).",
    remediation="Set `launchready:tls` → `tls13: true` in stacks/Pulumi.<stack>.yaml.",
    spec_keys=("tls.tls13", "tls"),
)
def tls13_enabled(props, config):
    if is_setting(props, "tls_1_3") and not (on(get(props, "value")) or get(props, "value") == "zrt"):
        yield f"TLS 1.3 is {get(props, 'value')!r}; turn it on."


@resource_rule(
    "always-use-https", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="Every plain-HTTP request is redirected to HTTPS (Always Use HTTPS is on).",
    remediation="""
Set `launchready:tls` → `alwaysUseHttps: true` in stacks/Pulumi.<stack>.yaml (or remove the key:
true is the default). Without it, links and bookmarks with http:// keep serving the portal unencrypted.""",
    spec_keys=("tls.alwaysUseHttps", "tls"),
)
def always_use_https(props, config):
    if is_setting(props, "always_use_https") and not on(get(props, "value")):
        yield f"Always Use HTTPS is {get(props, 'value')!r}; it must be 'on'."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    ssl_mode_not_flexible, ssl_mode_strict, min_tls_version, tls13_enabled, always_use_https,
)
