"""Mail section of the stack spec, its parts: who sends for the domain, and how it is authenticated.

Providers come from a data catalog (mail_providers.yaml, mailcatalog.py): adding a provider is
adding data. The section itself (Mail) and the records it publishes are in mailplan.py, derived
once per Spec (Spec.mail_plan); nothing here knows the plan.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, model_validator

from .fields import Hostname, StrictInt
from .mailcatalog import CATALOG_FILE, catalog, fill, provider_ids, spf_lookup_cost  # noqa: F401 - also imported from here
from .model import Model
from .records import TXT_STRING_MAX, txt_content, txt_value  # noqa: F401 - also imported from here

# -- small value types ---------------------------------------------------------------------------------

def _mailto(value: str) -> str:
    if not isinstance(value, str) or not re.match(r"^mailto:[^@\s,;!]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}(![0-9]+[kmgt]?)?$", value):
        raise ValueError("is not a mailto: URI (expected e.g. mailto:dmarc-reports@example.com)")
    return value


def _report_uri(value: str) -> str:
    if isinstance(value, str) and value.startswith("https://") and " " not in value and "," not in value:
        return value
    try:
        return _mailto(value)
    except ValueError:
        raise ValueError("is not a mailto: or https: URI (expected e.g. mailto:tls-reports@example.com)") from None


def _net(value: str, version: int) -> str:
    try:
        net = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        net = None
    if net is None or net.version != version:
        raise ValueError(f"is not a valid IPv{version} address or network")
    return str(net.network_address) if net.num_addresses == 1 else str(net)


MailtoUri = Annotated[str, AfterValidator(_mailto)]
ReportUri = Annotated[str, AfterValidator(_report_uri)]
Ip4Net = Annotated[str, AfterValidator(lambda v: _net(v, 4))]
Ip6Net = Annotated[str, AfterValidator(lambda v: _net(v, 6))]
DmarcPolicy = Literal["none", "quarantine", "reject"]


# -- the model -----------------------------------------------------------------------------------------

class Provider(Model):
    """One sending (or receiving) provider from the catalog, with its console-given parameters."""

    provider: str
    # The domain the provider sends as (its DKIM d= and SPF names); the apex unless given.
    domain: Hostname | None = None
    params: dict[str, str] = Field(default_factory=dict)
    # Override the catalog's default for optional SPF includes (see mail_providers.yaml).
    spf_include: StrictBool | None = None
    # Publish the provider's inbound MX at its domain (the domain receives mail there).
    inbound: StrictBool = False

    @model_validator(mode="after")
    def _against_catalog(self):
        entry = catalog()["providers"].get(self.provider)
        if entry is None:
            import difflib

            # Other names people use for a provider, then near-misses (sendgird → sendgrid).
            alias = (catalog().get("aliases") or {}).get(self.provider.lower())
            guess = [alias] if alias else difflib.get_close_matches(self.provider.lower(), provider_ids(), n=1, cutoff=0.75)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise ValueError(f"provider: {self.provider!r} is not in the catalog ({hint}expected one of: {', '.join(provider_ids())})")
        params = entry.get("params", {})
        problems = []
        for name in self.params:
            if name not in params:
                problems.append(f"params.{name}: unknown parameter for {self.provider} (expected one of: {', '.join(params)})")
        for name, meta in params.items():
            meta = meta or {}
            if name not in self.params:
                if "default" not in meta:
                    problems.append(f"params.{name}: is required by {self.provider} ({meta.get('doc', 'see the provider console')})")
                continue
            pattern = meta.get("pattern")
            if pattern and not re.search(pattern, self.params[name]):
                # Never echo the value: DKIM keys are public, but a param may be pasted wrongly.
                problems.append(f"params.{name}: does not look like {meta.get('doc', 'the expected value')}")
        if self.inbound and not entry.get("mx"):
            problems.append(f"inbound: {self.provider} receives no mail (the catalog lists no MX for it)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def entry(self) -> dict:
        return catalog()["providers"][self.provider]

    @property
    def name(self) -> str:
        return self.provider

    @property
    def managed(self) -> str | None:
        return self.entry.get("managed")

    def values(self, domain: str) -> dict[str, str]:
        meta = self.entry.get("params", {})
        values = {k: str((m or {}).get("default", "")) for k, m in meta.items()}
        values.update(self.params)
        values.update(domain=domain, domainDashed=domain.replace(".", "-"))
        return {k: fill(v, values) for k, v in values.items()}


class SpfInclude(Model):
    domain: Hostname
    lookups: StrictInt = Field(ge=1, le=10)


class Spf(Model):
    """Extra SPF terms at the apex; the provider includes are added from the catalog."""

    # -all unless the spec says so: ~all (softfail) is for a rollout, and policies flag it in production.
    all: Literal["-all", "~all"] = "-all"
    ip4: list[Ip4Net] = Field(default_factory=list)
    ip6: list[Ip6Net] = Field(default_factory=list)
    # A known include by name, or {domain, lookups} for one the catalog does not know.
    include: list[Hostname | SpfInclude] = Field(default_factory=list)


class Dmarc(Model):
    policy: DmarcPolicy = "reject"
    subdomain_policy: DmarcPolicy | None = None
    rua: list[MailtoUri] = Field(default_factory=list)
    ruf: list[MailtoUri] = Field(default_factory=list)
    adkim: Literal["r", "s"] = "r"
    aspf: Literal["r", "s"] = "r"
    pct: StrictInt = Field(default=100, ge=0, le=100, description="percent, 0..100, without %")
    # p=none only while rolling out (watching rua reports before enforcing); say so explicitly.
    staged_rollout: StrictBool = False

    @model_validator(mode="after")
    def _staged(self):
        if "none" in (self.policy, self.subdomain_policy) and not self.staged_rollout:
            key = "policy" if self.policy == "none" else "subdomainPolicy"
            raise ValueError(f"{key}: 'none' is allowed only during a staged rollout (set stagedRollout: true)")
        return self

    def value(self) -> str:
        parts = ["v=DMARC1", f"p={self.policy}"]
        if self.subdomain_policy:
            parts.append(f"sp={self.subdomain_policy}")
        parts += [f"adkim={self.adkim}", f"aspf={self.aspf}"]
        if self.pct != 100:
            parts.append(f"pct={self.pct}")
        if self.rua:
            parts.append("rua=" + ",".join(self.rua))
        if self.ruf:
            parts += ["ruf=" + ",".join(self.ruf), "fo=1"]
        return "; ".join(parts)


class Mx(Model):
    host: Hostname
    priority: StrictInt = Field(default=10, ge=0, le=65535)


class MtaSts(Model):
    """MTA-STS (RFC 8461): the policy is served by a Cloudflare Worker at mta-sts.<domain>."""

    mode: Literal["enforce", "testing", "none"] = "enforce"
    max_age: StrictInt = Field(default=604800, ge=86400, le=31557600, description="seconds, e.g. 604800")
    # mx patterns of the policy; by default the apex MX hosts.
    mx: list[str] = Field(default_factory=list)
    # The Cloudflare account the Worker runs in (defaults to zone.accountId).
    account_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class TlsRpt(Model):
    rua: list[ReportUri] = Field(min_length=1)
