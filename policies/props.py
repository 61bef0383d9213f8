"""Reading resource properties as the engine presents them to a policy.

Properties arrive as the SDK's proxies (Mapping / Sequence, not dict / list), with engine property
names (camelCase), numbers as floats and secrets unwrapped. Accessing an unknown preview value
raises UnknownValueError, which is left to propagate (the SDK reports it as advisory).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from infra.spec.mailspec import txt_value

# Re-exported: rules read the hosts an expression is limited to from here (policies/hostmatch.py).
from .hostmatch import HostMatch, host_match  # noqa: F401

# -- type tokens -----------------------------------------------------------------------------------
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
ZONE_DNSSEC = "cloudflare:index/zoneDnssec:ZoneDnssec"
RULESET = "cloudflare:index/ruleset:Ruleset"
CF_ZONE = "cloudflare:index/zone:Zone"
SES_IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
SM_SECRET = "aws:secretsmanager/secret:Secret"
SM_SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SM_SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
KMS_KEY = "aws:kms/key:Key"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
NOTIFICATION_POLICY = "cloudflare:index/notificationPolicy:NotificationPolicy"
CERTIFICATE_PACK = "cloudflare:index/certificatePack:CertificatePack"

PHASE_REDIRECT = "http_request_dynamic_redirect"
PHASE_WAF = "http_request_firewall_managed"
PHASE_RATELIMIT = "http_ratelimit"
PHASE_CACHE = "http_request_cache_settings"
PHASE_HEADERS = "http_response_headers_transform"


# -- generic access --------------------------------------------------------------------------------

def get(obj: Any, *path: Any, default: Any = None) -> Any:
    """obj[path[0]][path[1]]..., or default where a key is missing (unknowns still raise)."""
    for key in path:
        if isinstance(obj, Mapping):
            if key not in obj:
                return default
            obj = obj[key]
        elif is_list(obj) and isinstance(key, int):
            if not -len(obj) <= key < len(obj):
                return default
            obj = obj[key]
        else:
            return default
        if obj is None:
            return default
    return obj


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if is_list(value) else [value]


def on(value: Any) -> bool:
    """Cloudflare switches are "on"/"off" strings; accept booleans too."""
    return value is True or (isinstance(value, str) and value.lower() == "on")


def num(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def fmt_num(value: Any) -> str:
    """60.0 -> '60' (numbers reach policies as floats)."""
    n = num(value)
    if n is None:
        return repr(value)
    return str(int(n)) if n == int(n) else str(n)


def plain(value: Any) -> Any:
    """A proxy tree as plain dicts/lists (forces every value, so unknowns raise)."""
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if is_list(value):
        return [plain(v) for v in value]
    return value


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string leaf with its property path ('rules[0].expression')."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k in value:
            yield from strings(value[k], f"{path}.{k}" if path else str(k))
    elif is_list(value):
        for i, v in enumerate(value):
            yield from strings(v, f"{path}[{i}]")


# -- stack-level helpers ---------------------------------------------------------------------------

def of_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [r for r in resources if r.resource_type in types]


def zone_id(props: Any) -> str:
    return str(get(props, "zoneId", default="") or "")


def zones(resources: Iterable[Any]) -> list[str]:
    """Zones that carry portal configuration: any zone a DNS record, setting or ruleset points at."""
    seen: list[str] = []
    for r in of_type(resources, DNS_RECORD, ZONE_SETTING, RULESET):
        z = zone_id(r.props)
        if z and z not in seen:
            seen.append(z)
    return seen


def zone_label(resources: Iterable[Any], zone: str) -> str:
    """A readable name for a zone: its apex (the shortest record name in it), else its id."""
    names = [str(get(r.props, "name", default="")) for r in of_type(resources, DNS_RECORD) if zone_id(r.props) == zone]
    names = [n for n in names if n and not n.startswith(("_", "*"))]
    return min(names, key=lambda n: (n.count("."), len(n))) if names else f"zone {zone}"


def rulesets(resources: Iterable[Any], zone: str, phase: str) -> list[Any]:
    return [r for r in of_type(resources, RULESET)
            if zone_id(r.props) == zone and get(r.props, "phase") == phase]


def enabled_rules(props: Any) -> list[Any]:
    return [rule for rule in as_list(get(props, "rules")) if get(rule, "enabled", default=True) is not False]


def is_setting(props: Any, setting_id: str) -> bool:
    """Whether a ZoneSetting's props are those of `setting_id` ('ssl', 'security_header', ...)."""
    return get(props, "settingId") == setting_id


def record_name(props: Any) -> str:
    return str(get(props, "name", default="") or "").lower().rstrip(".")


def txt_content(props: Any) -> str:
    """TXT content as one string, as a resolver hands it back: quoted 255-byte chunks
    ('"v=spf1 ..." "-all"') joined and unescaped by the spec's own inverse of what infra writes."""
    return txt_value(str(get(props, "content", default="") or "").strip())


def caa_parts(props: Any) -> tuple[Any, Any, Any]:
    """(flags, tag, value) of a CAA record, from its structured data or its 'flags tag value' content."""
    data = get(props, "data")
    if data is not None:
        return get(data, "flags"), get(data, "tag"), get(data, "value")
    m = re.fullmatch(r'\s*(\S+)\s+(\S+)\s+"?(.*?)"?\s*', str(get(props, "content", default="")))
    return (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)


# -- Cloudflare rule expressions -------------------------------------------------------------------
_Q = r'"((?:[^"\\]|\\.)*)"'
_PATH = r"http\.request\.uri\.path"


def expr_paths(expression: str) -> list[tuple[str, str]]:
    """(kind, path) matched by an expression: kind is 'eq', 'prefix' or 'any' (wildcard, regex...)."""
    out: list[tuple[str, str]] = []
    for m in re.finditer(rf"{_PATH}\s+(?:eq|==)\s+{_Q}", expression):
        out.append(("eq", _unq(m.group(1))))
    for m in re.finditer(rf"starts_with\(\s*{_PATH}\s*,\s*{_Q}\s*\)", expression):
        out.append(("prefix", _unq(m.group(1))))
    for m in re.finditer(rf"{_PATH}\s+in\s+\{{([^}}]*)\}}", expression):
        out += [("eq", _unq(v)) for v in re.findall(_Q, m.group(1))]
    for m in re.finditer(rf"{_PATH}\s+(?:contains|wildcard|strict wildcard|matches|~)\s+{_Q}", expression):
        out.append(("any", _unq(m.group(1))))
    return out


def _expr_field_values(expression: str, field: str) -> set[str] | None:
    """Values an expression compares `field` with (`eq`/`==` one value, `in {...}` several), or None
    when the expression does not mention the field."""
    values: set[str] = set()
    found = False
    name = re.escape(field)
    for m in re.finditer(rf"{name}\s+(?:eq|==)\s+{_Q}", expression):
        values.add(_unq(m.group(1)))
        found = True
    for m in re.finditer(rf"{name}\s+in\s+\{{([^}}]*)\}}", expression):
        values |= {_unq(v) for v in re.findall(_Q, m.group(1))}
        found = True
    return values if found else None


def expr_methods(expression: str) -> set[str] | None:
    methods = _expr_field_values(expression, "http.request.method")
    return None if methods is None else {m.upper() for m in methods}


def _unq(s: str) -> str:
    if "\\" not in s:
        return s
    try:
        return json.loads(f'"{s}"')
    except ValueError:
        return s


def path_covered(path: str, expression: str) -> bool:
    """Whether requests to `path` (and below it) match the path conditions of an expression."""
    stripped = expression.strip()
    matches = expr_paths(expression)
    if not matches:
        return stripped == "true" or "http.request.uri" not in expression
    for kind, p in matches:
        if kind == "eq" and p.rstrip("/") == path.rstrip("/"):
            return True
        if kind == "prefix" and path.startswith(p):
            return True
        if kind == "any" and p.strip("*") and p.strip("*") in path:
            return True
    return False


# -- naming a ruleset rule for the reader ----------------------------------------------------------
_RATELIMIT_REF = re.compile(r"ratelimit_(\d+)")


def rule_label(rule: Any, index: int, prefix: str = "rule ") -> str:
    """The stack-file entry a rule came from where the program's ref says so (ratelimit_N is
    launchready:rateLimits[N]), else `prefix` + its ref, else its position in the ruleset."""
    ref = str(get(rule, "ref", default="") or "")
    m = _RATELIMIT_REF.fullmatch(ref)
    if m:
        return f"rateLimits[{m.group(1)}]"
    return f"{prefix}{ref!r}" if ref else f"rules[{index}]"


def ratelimit_keys(message: str, fields: Sequence[tuple[str, str]], fallback: Sequence[str] = ()) -> list[str]:
    """Stack-file key paths for a message about `rateLimits[N]`: the field whose marker (a phrase of
    the message) appears first in `fields`, then the entry; `fallback` when no entry is named."""
    m = re.match(r"rateLimits\[(\d+)\]", message)
    if not m:
        return list(fallback)
    entry = f"rateLimits[{m.group(1)}]"
    field = next((f for marker, f in fields if marker in message), "")
    return ([f"{entry}.{field}"] if field else []) + [entry]
