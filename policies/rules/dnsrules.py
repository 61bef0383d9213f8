"""DNS rules: wildcards, origins hidden behind the proxy, CAA, DNSSEC, subdomain-takeover risks."""
from __future__ import annotations

import re

from infra.knowledge import takeover

from ..context import current_spec
from ..props import DNS_RECORD, ZONE_DNSSEC, get, of_type, record_name, zone_id, zone_label, zones
from ..registry import HIGH, MANDATORY, MEDIUM, resource_rule, stack_rule


@resource_rule(
    "no-wildcard-records", area="dns", types=[DNS_RECORD], severity=MEDIUM, enforcement=MANDATORY,
    description="No wildcard DNS records (*.example.com) unless a tenant group declares it or it is explicitly allowed: a wildcard answers for every mistyped or forgotten name, which phishing and takeovers exploit.",
    remediation="""
Replace the wildcard in `launchready:records` (stacks/Pulumi.<stack>.yaml) with one record per host
the portal really serves. Per-tenant subdomains are a tenant group (`launchready:tenantGroups` with
`wildcard: true` and `except:` for the names it must not serve; docs/stack-spec-tenants.md), whose
wildcard is accepted. Any other wildcard can be allowed by name in the policy config:
{"no-wildcard-records": {"allowed": ["*.tenants.example.com"]}}.""",
    config={"allowed": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Wildcard names that are accepted."}},
    spec_keys=("records",),
)
def no_wildcard_records(props, config):
    name = record_name(props)
    if not name.startswith("*") or name in {a.lower().rstrip(".") for a in config["allowed"]}:
        return
    spec = current_spec()
    if spec is not None and any(g.wildcard and g.pattern == name for g in spec.tenant_groups):
        return  # a tenant group's wildcard, declared with the names it must not serve
    yield f"{name} ({get(props, 'type')}) is a wildcard record."


# Third-party services whose CNAME targets must stay DNS-only (mail return paths, verification).
DNS_ONLY_TARGETS = [
    "amazonses.com", "mtasv.net", "sendgrid.net", "mailgun.org", "mailgun.net", "mandrillapp.com",
    "sparkpostmail.com", "resend.com", "resend.dev", "outlook.com", "onmicrosoft.com", "google.com",
    "googlehosted.com", "ghs.googlehosted.com", "zendesk.com", "acm-validations.aws", "comodoca.com",
    "sectigo.com", "digicert.com", "letsencrypt.org", "mailchimp.com", "mcsv.net", "hubspotemail.net",
    "postmarkapp.com", "brevo.com", "sendinblue.com",
]


def _dns_only_target(target: str, suffixes) -> bool:
    t = target.lower().rstrip(".")
    return any(t == s or t.endswith("." + s) for s in suffixes)


@resource_rule(
    "portal-hosts-proxied", area="dns", types=[DNS_RECORD], severity=HIGH, enforcement=MANDATORY,
    description="Hosts that serve the portal are proxied through Cloudflare, so the origin address is never published and the WAF, rate limits and TLS settings apply.",
    remediation="""
Set `proxied: true` on the host in `launchready:hosts` (stacks/Pulumi.<stack>.yaml) — or delete
`proxied: false`, true is the default. A DNS-only A/AAAA/CNAME record publishes the origin: anyone
can bypass the WAF by connecting to it directly, and once published the address should be
rotated. If the name is not a web host (a mail server, a VPN), allow it in the policy config:
{"portal-hosts-proxied": {"dnsOnly": ["mail.example.com"]}}.""",
    config={
        "dnsOnly": {"type": "array", "items": {"type": "string"}, "default": [],
                    "description": "Names that are intentionally DNS-only."},
        "dnsOnlyTargets": {"type": "array", "items": {"type": "string"}, "default": DNS_ONLY_TARGETS,
                           "description": "CNAME target domains (mail, verification services) that must stay DNS-only."},
    },
    spec_keys=("hosts", "records"),
)
def portal_hosts_proxied(props, config):
    rtype = str(get(props, "type", default="")).upper()
    if rtype not in ("A", "AAAA", "CNAME") or get(props, "proxied") is True:
        return
    name = record_name(props)
    if any(label.startswith("_") for label in name.split(".")):
        return  # service labels (_dmarc, _domainkey, _acme-challenge) are never web hosts
    if name in {n.lower().rstrip(".") for n in config["dnsOnly"]}:
        return
    content = str(get(props, "content", default=""))
    if rtype == "CNAME" and _dns_only_target(content, config["dnsOnlyTargets"]):
        return
    what = "origin address" if rtype in ("A", "AAAA") else "origin host name"
    yield f"{name} {rtype} is DNS-only: it publishes the {what} {content} and bypasses the WAF."


@stack_rule(
    "caa-present", area="dns", severity=MEDIUM, enforcement=MANDATORY,
    description="Every zone publishes CAA records naming the certificate authorities allowed to issue for it (and only allowed ones, when configured).",
    remediation="""
List the CAs you use in `launchready:caa` (stacks/Pulumi.<stack>.yaml), e.g. `[letsencrypt.org, pki.goog]`
(Cloudflare's edge certificates come from Let's Encrypt and Google Trust Services). To pin the
accepted CAs, set {"caa-present": {"allowedIssuers": ["letsencrypt.org", "pki.goog"]}} in the policy config.""",
    config={"allowedIssuers": {"type": "array", "items": {"type": "string"}, "default": [],
                               "description": "If not empty, the only CA domains CAA 'issue' records may name."}},
    spec_keys=("caa",),
)
def caa_present(resources, config):
    records = of_type(resources, DNS_RECORD)
    allowed = {a.lower() for a in config["allowedIssuers"]}
    for zone in zones(resources):
        in_zone = [r for r in records if zone_id(r.props) == zone]
        if not in_zone:
            continue
        caa = [r for r in in_zone if str(get(r.props, "type", default="")).upper() == "CAA"]
        issue = [r for r in caa if get(r.props, "data", "tag") == "issue"
                 or re.search(r"\bissue\b", str(get(r.props, "content", default="")))]
        if not issue:
            yield f"{zone_label(resources, zone)}: no CAA 'issue' record; any CA may issue certificates for it."
            continue
        if allowed:
            for r in issue:
                value = str(get(r.props, "data", "value", default="") or get(r.props, "content", default=""))
                ca = value.strip('"').split(";")[0].strip().lower()
                if ca and ca not in allowed:
                    yield (f"{record_name(r.props)}: CAA allows {ca!r}, which is not among the allowed issuers "
                           f"({', '.join(sorted(allowed))}).", r.urn)


@stack_rule(
    "dnssec-enabled", area="dns", severity=MEDIUM, enforcement=MANDATORY,
    description="DNSSEC is active on every zone, so resolvers can detect forged answers for the portal's names.",
    remediation="""
Set `launchready:dnssec: true` in stacks/Pulumi.<stack>.yaml (true is the default). After
`pulumi up`, add the exported `dnssecDs` record at your registrar (Cloudflare Registrar does it
for you); until then DNSSEC is signed but not validated.""",
    spec_keys=("dnssec",),
)
def dnssec_enabled(resources, config):
    dnssec = of_type(resources, ZONE_DNSSEC)
    for zone in zones(resources):
        if not [r for r in of_type(resources, DNS_RECORD) if zone_id(r.props) == zone]:
            continue
        mine = [r for r in dnssec if zone_id(r.props) == zone]
        if not mine:
            yield f"{zone_label(resources, zone)}: DNSSEC is not declared."
        for r in mine:
            status = get(r.props, "status")
            if status not in (None, "active"):
                yield (f"{zone_label(resources, zone)}: DNSSEC status is {status!r}; it must be 'active'.", r.urn)


@resource_rule(
    "cname-takeover-risk", area="dns", types=[DNS_RECORD], severity=HIGH, enforcement=MANDATORY,
    description="CNAMEs to services prone to subdomain takeover (S3 buckets and websites in any region, Heroku, GitHub Pages, Azure, ...) must be reviewed and accepted in the policy config.",
    remediation="""
A CNAME to a resource on a shared service (an S3 bucket, a Heroku app, an Azure web app...) is
taken over by whoever creates a resource of that name once yours is deleted, and then serves
content on your domain. Before merging:
1. check that the target exists and belongs to your account;
2. plan to delete the record in the same change that deletes the resource;
3. accept the exact target in the policy config file passed to the gate
   (`launchready gate --policy-config policy.json`, or `pulumi preview --policy-pack-config`):
   {"cname-takeover-risk": {"allowedTargets": ["my-bucket.s3.amazonaws.com"]}}
If the record is not needed, remove it from `launchready:records` in stacks/Pulumi.<stack>.yaml.""",
    config={
        "suffixes": {"type": "array", "items": {"type": "string"}, "default": takeover.SUFFIXES,
                     "description": "Target domains considered takeover-prone."},
        "patterns": {"type": "array", "items": {"type": "string"}, "default": list(takeover.PATTERNS),
                     "description": "Regexes of takeover-prone targets (region-qualified endpoints)."},
        "allowedTargets": {"type": "array", "items": {"type": "string"}, "default": [],
                           "description": "Reviewed targets that are accepted."},
    },
    spec_keys=("records", "hosts"),
)
def cname_takeover_risk(props, config):
    if str(get(props, "type", default="")).upper() != "CNAME":
        return
    target = str(get(props, "content", default="")).lower().rstrip(".")
    if target in {t.lower().rstrip(".") for t in config["allowedTargets"]}:
        return
    # The same matcher verify uses to name the service of a dangling CNAME (infra.knowledge.takeover).
    service = takeover.takeover_service(target, config["suffixes"], config["patterns"])
    if service is not None:
        yield (f"{record_name(props)} CNAME {target}: {service} is prone to subdomain takeover if the target "
               f"is deleted; review it and list it in allowedTargets.")


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    no_wildcard_records, portal_hosts_proxied, caa_present, dnssec_enabled, cname_takeover_risk,
)
