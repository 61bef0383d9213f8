"""The stack spec: one typed description of a portal launch.

Keys in the stack file are camelCase (Pulumi's config convention); attributes here are snake_case.
Validation here rejects what is malformed or contradictory. Whether a well-formed value is
*insecure* (minimum TLS 1.0, SPF ~all in production) is for policies/ to judge, not for the spec.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from infra.knowledge.cfplans import PlanName
from infra.knowledge.cloudflare import MANAGED_RULESETS as _CF_RULESETS
from infra.knowledge.cloudflare import ManagedRulesetName

from .adoptspec import Adopt
from .fields import (
    Hostname,
    NonNegativeInt,
    PositiveInt,
    RecordName,
    StrictInt,
    UrlPath,
    is_ip,
    normalise_hostname,
)

# Flow names that are authentication entry points: each must sit behind a rate limit (policies).
AUTH_FLOWS = frozenset({"login", "reset", "invite", "signup", "mfa", "token"})


def _quoted_version(value):
    """A TLS version must be a quoted string: YAML reads an unquoted 1.10 as the number 1.1, and a
    number cannot say which version was meant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise PydanticCustomError(
            "unquoted_version", "{value} is a number, not a TLS version: quote it (did you mean '{guess}'?); "
            "YAML reads an unquoted 1.10 as 1.1", {"value": value, "guess": f"{value:.1f}"})
    return value


class Model(BaseModel):
    # Stack files use the camelCase keys only (`minVersion`, not `min_version`): a snake_case key is
    # an unknown key with a did-you-mean (infra/spec/errors.py), never silently the same setting.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True,
    )


class Zone(Model):
    """Which Cloudflare zone the records go into: an existing one (by name or id) or one to create."""

    name: Hostname | None = None
    id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    create: StrictBool = False
    account_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    # The zone's Cloudflare plan (what the API lets it declare); None: the cheapest plan the stack's
    # features need (infra.spec.zoneplan), which `launchready plan` shows.
    plan: PlanName | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if self.create and not self.account_id:
            raise ValueError("create: true needs accountId (the Cloudflare account to create the zone in)")
        if self.create and self.id:
            raise ValueError("give either id (an existing zone) or create: true, not both")
        return self

    # Existing rulesets and records to import instead of create (infra/spec/adoptspec.py; checked
    # against the rest of the spec in Spec._check_adopt).
    adopt: Adopt = Adopt()


def origin_value(value: str) -> str:
    """An origin as the program publishes it: an IP address (A/AAAA) or a hostname (CNAME)."""
    if is_ip(value):
        return str(ipaddress.ip_address(value))
    if ":" in value and "://" not in value and not re.fullmatch(r"[^:]+:\d+", value):
        # Colons and no scheme or port: meant as an IPv6 address.
        raise ValueError("is not a valid IP address or hostname (not a valid IPv6 address)")
    if re.fullmatch(r"[\d.]+", value):
        raise ValueError("is not a valid IP address or hostname (not a valid IPv4 address)")
    try:
        return normalise_hostname(value)
    except ValueError as exc:
        detail = str(exc).partition("(")[2].rstrip(")")
        raise ValueError("is not a valid IP address or hostname" + (f" ({detail})" if detail else "")) from None


def origin_record_type(origin: str) -> str:
    if is_ip(origin):
        return "AAAA" if ":" in origin else "A"
    return "CNAME"


class Host(Model):
    """A public host of the portal and the main flows it serves."""

    name: Hostname
    # An IP address becomes an A/AAAA record; a hostname becomes a CNAME.
    origin: str
    proxied: StrictBool = True
    # Main-flow paths, e.g. {login: /login, reset: /password/reset, invite: /invite}.
    flows: dict[str, UrlPath] = Field(default_factory=dict)
    # An API host is never cached and gets the API rate limit.
    api: StrictBool = False
    ttl: StrictInt = Field(1, description="seconds, 1 = automatic")

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        return origin_value(value)

    @property
    def record_type(self) -> str:
        return origin_record_type(self.origin)

    @property
    def auth_flows(self) -> dict[str, str]:
        return {k: v for k, v in self.flows.items() if k in AUTH_FLOWS}


RecordType = Literal["A", "AAAA", "CNAME", "TXT", "MX", "CAA", "SRV", "NS"]


class Record(Model):
    """An extra DNS record, published as declared."""

    name: RecordName
    type: RecordType
    content: str = Field(min_length=1)
    ttl: StrictInt = Field(1, description="seconds, 1 = automatic")
    proxied: StrictBool = False
    priority: StrictInt | None = None

    @model_validator(mode="after")
    def _content(self):
        if self.type in ("A", "AAAA"):
            if not is_ip(self.content) or (self.type == "A") == (":" in self.content):
                raise ValueError(f"content: {self.content!r} is not a valid {'IPv4' if self.type == 'A' else 'IPv6'} address")
        if self.type in ("CNAME", "NS", "MX"):
            try:
                object.__setattr__(self, "content", normalise_hostname(self.content, allow_underscore=True))
            except ValueError:
                raise ValueError(f"content: {self.content!r} is not a valid hostname") from None
        if self.type == "MX" and self.priority is None:
            raise ValueError("priority is required for an MX record")
        if self.ttl != 1 and not 30 <= self.ttl <= 86400:
            raise ValueError(f"ttl: {self.ttl} is out of range (expected 1 for automatic, or 30..86400 seconds)")
        return self


class Redirect(Model):
    """A legacy path redirect on one host (the canonical host unless given)."""

    from_: UrlPath = Field(alias="from")
    to: str
    status: Literal[301, 302, 307, 308] = 301
    host: Hostname | None = None
    # A tenant group's name: the redirect applies on every tenant host of the group (one rule).
    group: str | None = None
    preserve_query: StrictBool = True

    @model_validator(mode="after")
    def _target(self):
        if not (self.to.startswith("/") or self.to.startswith("https://") or self.to.startswith("http://")):
            raise ValueError(f"to: {self.to!r} is not a path (/new) or an absolute URL (https://...)")
        if self.host and self.group:
            raise ValueError("give host or group, not both")
        return self

    # Redirect resolution, one place for the program, the validator and verify's expectations.
    def target_url(self, host: str) -> str:
        """Where the redirect sends a request on `host`: `to` itself, or the path on the same host."""
        return self.to if self.to.startswith(("https://", "http://")) else f"https://{host}{self.to}"

    def target(self, host: str) -> tuple[str, str]:
        """(host, path) the redirect lands on, without the query: what a second redirect would match."""
        if self.to.startswith("/"):
            return host, self.to.split("?")[0]
        target_host, _, path = self.to.split("://", 1)[1].partition("/")
        return target_host.lower(), "/" + path.split("?")[0]


class Hsts(Model):
    enabled: StrictBool = True
    max_age: StrictInt = Field(31536000, description="seconds, e.g. 31536000 for a year")
    include_subdomains: StrictBool = True
    preload: StrictBool = False
    nosniff: StrictBool = True


class Tls(Model):
    ssl_mode: Literal["off", "flexible", "full", "strict"] = "strict"
    # YAML reads an unquoted 1.2 as a number; accept it as the version it obviously means.
    min_version: Annotated[Literal["1.0", "1.1", "1.2", "1.3"], BeforeValidator(_quoted_version)] = "1.2"
    tls13: StrictBool = True
    always_use_https: StrictBool = True
    automatic_https_rewrites: StrictBool = True
    hsts: Hsts = Hsts()
    # The origins accept only the edge: Cloudflare presents its client certificate to the origin
    # (zone setting tls_client_auth), which must require it; verify checks the origin refuses others.
    authenticated_origin_pulls: StrictBool = False


# Cloudflare's managed WAF rulesets, by the names the spec uses (ids and titles: infra.knowledge).
MANAGED_RULESETS = {name: r.id for name, r in _CF_RULESETS.items()}


class Waf(Model):
    enabled: StrictBool = True
    managed_rulesets: list[ManagedRulesetName] = ["cloudflare", "owasp"]


class RateLimit(Model):
    """At most `requests` per `period` seconds per client IP on a path prefix."""

    name: str | None = None
    path: UrlPath
    hosts: list[Hostname] = Field(default_factory=list)  # empty (and no groups): every host that serves the path
    groups: list[str] = Field(default_factory=list)      # tenant groups by name: every tenant host of each
    methods: list[Literal["GET", "POST", "PUT", "PATCH", "DELETE"]] = Field(default_factory=list)
    # Field descriptions are the units that error messages name ("'1m' is not an integer (seconds, e.g. 60)").
    requests: PositiveInt = Field(description="requests per period, e.g. 10")
    period: PositiveInt = Field(60, description="seconds, e.g. 60")
    # None: 600 s, or what the zone's plan requires (0 for a challenge below Enterprise; zoneplan.py).
    mitigation_timeout: NonNegativeInt | None = Field(None, description="seconds, e.g. 600, or 0")
    action: Literal["block", "managed_challenge", "js_challenge", "log"] = "block"


class Cache(Model):
    static_paths: list[UrlPath] = Field(default_factory=lambda: ["/assets/", "/static/"])
    static_ttl: PositiveInt = Field(86400, description="seconds, e.g. 86400")
    # The browser TTL of static assets (Cache-Control max-age the edge serves them with); None: the origin's.
    browser_ttl: PositiveInt | None = Field(None, description="seconds, e.g. 31536000")
    # Requests carrying this cookie are authenticated and never cached.
    session_cookie: str = Field(default="session", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    bypass_paths: list[UrlPath] = Field(default_factory=list)


class Headers(Model):
    content_security_policy: str | None = None
    frame_options: Literal["DENY", "SAMEORIGIN"] = "DENY"
    referrer_policy: str = "strict-origin-when-cross-origin"
    permissions_policy: str = "camera=(), microphone=(), geolocation=()"
    content_type_options: StrictBool = True
    cross_origin_opener_policy: Literal["same-origin", "same-origin-allow-popups", "unsafe-none"] | None = "same-origin"
    extra: dict[str, str] = Field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        """The response headers the edge sets, in header-name form."""
        out = {
            "X-Frame-Options": self.frame_options,
            "Referrer-Policy": self.referrer_policy,
            "Permissions-Policy": self.permissions_policy,
        }
        if self.content_type_options:
            out["X-Content-Type-Options"] = "nosniff"
        if self.cross_origin_opener_policy:
            out["Cross-Origin-Opener-Policy"] = self.cross_origin_opener_policy
        if self.content_security_policy:
            out["Content-Security-Policy"] = self.content_security_policy
        out.update(self.extra)
        return out


class SpecView(Protocol):
    """What a section reads of the whole spec (infra.spec.spec.Spec) to plan or check itself against
    the rest. Declared here, below the sections, so that no section imports the root that holds it."""

    @property
    def domain(self) -> str: ...

    @property
    def zone(self) -> Zone: ...

    @property
    def hosts(self) -> list[Host]: ...

    @property
    def tenant_groups(self) -> list: ...  # list[TenantGroup] (tenantspec.py, which imports this module)

    @property
    def records(self) -> list[Record]: ...

    @property
    def caa(self) -> list[str]: ...

    def host(self, name: str) -> Host | None: ...

    def group_of(self, host: str): ...  # the TenantGroup serving a tenant host, or None
