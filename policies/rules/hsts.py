"""HSTS rules (the security_header zone setting), and the check that every zone declares its TLS
and HSTS settings at all."""
from __future__ import annotations

from ..props import ZONE_SETTING, fmt_num, get, is_setting, num, of_type, zone_id, zone_label, zones
from ..registry import HIGH, MANDATORY, MEDIUM, resource_rule, stack_rule

PRELOAD_MIN_AGE = 31536000


def _hsts(props):
    return get(props, "value", "strict_transport_security", default={})


@resource_rule(
    "hsts-enabled", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="HSTS (Strict-Transport-Security) is sent, so browsers refuse plain HTTP for the portal.",
    remediation="""
Set `launchready:tls` → `hsts: {enabled: true, maxAge: 31536000, includeSubdomains: true}` in
stacks/Pulumi.<stack>.yaml. Enable it only once every host serves HTTPS correctly (the gate's TLS
rules check that too): browsers cache the policy for maxAge seconds.""",
    spec_keys=("tls.hsts.enabled", "tls.hsts", "tls"),
)
def hsts_enabled(props, config):
    if is_setting(props, "security_header") and get(_hsts(props), "enabled") is not True:
        yield "HSTS is disabled in the security_header setting."


@resource_rule(
    "hsts-max-age", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=MANDATORY,
    description="HSTS max-age is at least 6 months (15552000 s), long enough to protect returning visitors; one year when preload is requested.",
    remediation="""
Set `launchready:tls` → `hsts.maxAge: 31536000` (one year; at least 15552000) in
stacks/Pulumi.<stack>.yaml. A short max-age lets the protection lapse between visits.
With `hsts.preload: true` the preload list requires one year (31536000) or more.""",
    config={"minMaxAge": {"type": "integer", "minimum": 0, "default": 15552000,
                          "description": "Smallest acceptable HSTS max-age, in seconds."}},
    spec_keys=("tls.hsts.maxAge", "tls.hsts", "tls"),
)
def hsts_max_age(props, config):
    if not is_setting(props, "security_header"):
        return
    hsts = _hsts(props)
    if get(hsts, "enabled") is not True:
        return  # hsts-enabled reports that
    age = num(get(hsts, "max_age"))
    if age is None or age < config["minMaxAge"]:
        yield f"HSTS max-age is {fmt_num(get(hsts, 'max_age'))}; it must be at least {fmt_num(config['minMaxAge'])} seconds."
    elif get(hsts, "preload") is True and age < PRELOAD_MIN_AGE:
        # hstspreload.org refuses (and later removes) a preload request below one year.
        yield (f"HSTS preload is on but max-age is {fmt_num(age)}; the preload list requires at least "
               f"{PRELOAD_MIN_AGE} seconds (one year).")


@resource_rule(
    "hsts-include-subdomains", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=MANDATORY,
    description="HSTS covers subdomains (includeSubDomains), so app., api. and future hosts are HTTPS-only too.",
    remediation="""
Set `launchready:tls` → `hsts.includeSubdomains: true` in stacks/Pulumi.<stack>.yaml. First make sure
every subdomain in the zone serves HTTPS (an http-only intranet name under the domain would break).""",
    spec_keys=("tls.hsts.includeSubdomains", "tls.hsts", "tls"),
)
def hsts_include_subdomains(props, config):
    if not is_setting(props, "security_header"):
        return
    hsts = _hsts(props)
    if get(hsts, "enabled") is True and get(hsts, "include_subdomains") is not True:
        yield "HSTS does not include subdomains."


# The settings family (tls.py and the HSTS setting above) is only judged where it is declared; this
# stack rule catches a zone that declares none of it. It lives here, after the HSTS rules, because
# that is its place in the catalogue (and in every report) since the pack was first written.
REQUIRED_SETTINGS = {
    "ssl": "ssl-mode-not-flexible",
    "min_tls_version": "min-tls-version",
    "always_use_https": "always-use-https",
    "security_header": "hsts-enabled",
}


@stack_rule(
    "edge-settings-declared", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Every zone declares its TLS settings (SSL mode, minimum TLS, Always Use HTTPS, HSTS); an undeclared setting keeps Cloudflare's weak default.",
    remediation="""
The launch program declares these settings from `launchready:tls` in stacks/Pulumi.<stack>.yaml;
if one is missing, the program was changed to skip it. Restore the `cloudflare.ZoneSetting` for
the missing setting id in infra/components/tlspolicy.py (one resource per setting id).""",
    config={"requiredSettings": {"type": "array", "items": {"type": "string"},
                                 "default": list(REQUIRED_SETTINGS),
                                 "description": "Zone setting ids every zone must declare."}},
    spec_keys=("tls",),
)
def edge_settings_declared(resources, config):
    settings = of_type(resources, ZONE_SETTING)
    for zone in zones(resources):
        declared = {get(s.props, "settingId") for s in settings if zone_id(s.props) == zone}
        for setting_id in config["requiredSettings"]:
            if setting_id not in declared:
                yield f"{zone_label(resources, zone)}: the {setting_id!r} setting is not declared (Cloudflare's default applies)."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    hsts_enabled, hsts_max_age, hsts_include_subdomains, edge_settings_declared,
)
