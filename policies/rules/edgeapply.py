"""Apply-time validity of the edge's certificates and expressions: what Cloudflare refuses at `pulumi up`
(or serves broken right after it), which the mock runtime accepts.

* cloudflare_certificate_pack (pulumi-cloudflare 6, Terraform provider v5 schema): type "advanced";
  1 to 50 hosts including the zone apex; validation txt, http or email, and never http for a wildcard
  host; validity 14, 30, 90 or 365 days, Let's Encrypt 90 only, Google and SSL.com 14/30/90 (SSL.com
  365 on Enterprise); authority google, lets_encrypt or ssl_com. Ordering one needs the Advanced
  Certificate Manager add-on, which no resource shows.
* CAA (RFC 8659): when the zone publishes issue records, the pack's authority must be among them;
  for a wildcard host, among the issuewild records if there are any.
* A rule expression has at most 4,096 characters (any phase, any plan).
* Universal SSL covers the apex and `*.apex` only: a proxied name two or more labels below the apex
  (`acme.portal.example.com`, `*.portal.example.com`) needs a certificate pack host covering it.
"""
from __future__ import annotations

from infra.knowledge.certificates import (
    CA_DOMAINS,
    CA_VALIDITY,
    MAX_PACK_HOSTS,
    PACK_TYPES,
    VALIDATION_METHODS,
    VALIDITY_DAYS,
)
from infra.knowledge.cloudflare import API_REQUESTS_PER_5_MIN, MAX_EXPRESSION
from infra.spec.records import tenant_group_of

from ..context import current_spec
from ..props import (
    CERTIFICATE_PACK,
    DNS_RECORD,
    RULESET,
    as_list,
    caa_parts,
    fmt_num,
    get,
    num,
    of_type,
    ratelimit_keys,
    record_name,
    rule_label,
    zone_id,
    zone_label,
)
from ..registry import ADVISORY, HIGH, LOW, MANDATORY, resource_rule, stack_rule


def _apex(resources, zone: str) -> str | None:
    """The zone's apex: the spec's domain, else the shortest record name in the zone, else unknown."""
    spec = current_spec()
    if spec is not None:
        return spec.domain
    label = zone_label(resources, zone)
    return None if label.startswith("zone ") else label


def _enterprise() -> bool:
    spec = current_spec()
    # Without a spec the plan is unknown: assume the one that refuses least (as entitlements.py does).
    return spec is None or spec.plan == "enterprise"


def _days_problem(ca: str, days: float | None) -> str | None:
    if days not in VALIDITY_DAYS:
        return f"validity {fmt_num(days)} days is not one the API accepts ({', '.join(map(str, VALIDITY_DAYS))})"
    allowed = CA_VALIDITY.get(ca, VALIDITY_DAYS) + ((365,) if ca == "ssl_com" and _enterprise() else ())
    if days not in allowed:
        return f"{ca} issues for {', '.join(map(str, allowed))} days, not {fmt_num(days)}"
    return None


def _pack_problems(props, apex: str | None) -> list[str]:
    hosts = [str(h).lower().rstrip(".") for h in as_list(get(props, "hosts"))]
    ptype, method = str(get(props, "type", default="")), str(get(props, "validationMethod", default=""))
    ca = str(get(props, "certificateAuthority", default=""))
    out = []
    if ptype not in PACK_TYPES:
        out.append(f"type {ptype!r} is not accepted (only 'advanced')")
    if not hosts:
        out.append("it has no hosts")
    elif len(hosts) > MAX_PACK_HOSTS:
        out.append(f"it has {len(hosts)} hosts, more than {MAX_PACK_HOSTS}")
    if hosts and apex and apex not in hosts:
        out.append(f"its hosts lack the zone apex {apex}, which the API requires")
    if method not in VALIDATION_METHODS:
        out.append(f"validation method {method!r} is not one of {', '.join(VALIDATION_METHODS)}")
    elif method == "http" and (wild := [h for h in hosts if h.startswith("*")]):
        out.append(f"a wildcard host ({wild[0]}) cannot be validated over http: use txt")
    if ca not in CA_VALIDITY:
        out.append(f"certificate authority {ca!r} is not one of {', '.join(sorted(CA_VALIDITY))}")
    if (why := _days_problem(ca, num(get(props, "validityDays")))) is not None:
        out.append(why)
    return out


@stack_rule(
    "certificate-pack-valid", area="apply", severity=HIGH, enforcement=MANDATORY,
    description=("A Cloudflare certificate pack has inputs the API accepts: type advanced; 1 to 50 hosts including the "
                 "zone apex; validation txt, http or email (txt for a wildcard host); authority google, lets_encrypt or "
                 "ssl_com; validity 14, 30, 90 or 365 days as the authority issues (Let's Encrypt 90 only; 365 only for "
                 "SSL.com on Enterprise)."),
    remediation="""
The program orders one advanced certificate per tenant group below a subdomain
(infra/components/tlspolicy.py, certificate_pack_args): hosts [apex, group domain, *.group domain],
TXT validation, 90 days. Choose the authority with `launchready:tenantGroups` → `certificateAuthority`
(lets_encrypt, google or ssl_com) in stacks/Pulumi.<stack>.yaml. If a pack was added or changed by hand,
restore those inputs. Ordering any pack needs the Advanced Certificate Manager add-on on the zone
(Cloudflare dashboard → SSL/TLS → Edge Certificates); no resource shows it, so check it before the deploy.""",
    spec_keys=("tenantGroups",),
)
def certificate_pack_valid(resources, config):
    for pack in of_type(resources, CERTIFICATE_PACK):
        problems = _pack_problems(pack.props, _apex(resources, zone_id(pack.props)))
        if problems:
            yield (f"certificate pack '{pack.name}': {'; '.join(problems)}.", pack.urn)


def _caa_sets(resources, zone: str) -> dict[str, dict[str, set[str]]]:
    """name → tag → CA domains allowed (';' alone allows none) of the zone's CAA records."""
    out: dict[str, dict[str, set[str]]] = {}
    for r in of_type(resources, DNS_RECORD):
        if zone_id(r.props) != zone or str(get(r.props, "type", default="")).upper() != "CAA":
            continue
        _, tag, value = caa_parts(r.props)
        if tag in ("issue", "issuewild"):
            ca = str(value or "").split(";")[0].strip().lower()
            out.setdefault(record_name(r.props), {}).setdefault(str(tag), set()).update({ca} if ca else set())
    return out


def _relevant(caa: dict[str, dict[str, set[str]]], host: str) -> tuple[str, dict[str, set[str]]] | None:
    """The CAA record set a CA consults for `host` (RFC 8659: the closest name at or above it that has one)."""
    name = host.removeprefix("*.")
    while name:
        if name in caa:
            return name, caa[name]
        name = name.partition(".")[2]
    return None


@stack_rule(
    "certificate-pack-caa", area="apply", severity=HIGH, enforcement=MANDATORY,
    description=("A certificate pack's authority may issue under the zone's CAA records (letsencrypt.org, pki.goog, "
                 "ssl.com): among the issue records when there are any, and for a wildcard host among the issuewild "
                 "records when there are any. Otherwise the certificate is never issued."),
    remediation="""
Add the authority's CAA domain to `launchready:caa` in stacks/Pulumi.<stack>.yaml (lets_encrypt:
letsencrypt.org, google: pki.goog, ssl_com: ssl.com): the program then publishes the issue record, and
the issuewild record for the tenant groups' authorities. Or set the group's `certificateAuthority` to one
`caa` already lists. For a CAA record declared in `launchready:records`, add the authority there.""",
    spec_keys=("caa", "tenantGroups"),
)
def certificate_pack_caa(resources, config):
    for pack in of_type(resources, CERTIFICATE_PACK):
        ca = str(get(pack.props, "certificateAuthority", default=""))
        domain = CA_DOMAINS.get(ca)
        if domain is None:
            continue  # certificate-pack-valid names an unknown authority
        caa = _caa_sets(resources, zone_id(pack.props))
        refused: dict[tuple[str, str], list[str]] = {}
        for host in (str(h).lower().rstrip(".") for h in as_list(get(pack.props, "hosts"))):
            found = _relevant(caa, host)
            if found is None:
                continue
            at, tags = found
            tag = "issuewild" if host.startswith("*.") and "issuewild" in tags else "issue"
            if tag in tags and domain not in tags[tag]:
                refused.setdefault((tag, at), []).append(host)
        for (tag, at), hosts in refused.items():
            allowed = ", ".join(sorted(caa[at][tag])) or "no authority (;)"
            yield (f"certificate pack '{pack.name}': {ca} ({domain}) may not issue for {', '.join(hosts)}: the CAA "
                   f"{tag} records at {at} allow {allowed}.", pack.urn)


@resource_rule(
    "rule-expression-length", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=f"Every ruleset rule's expression has at most {MAX_EXPRESSION:,} characters, the limit Cloudflare applies in every phase on every plan.",
    remediation="""
The program keeps each expression short: a tenant group whose host list would not fit is matched by
its wildcard (`http.host wildcard "*.<domain>"`, infra/edgerules.py group_match). A long expression
comes from many explicit hosts in one entry: in stacks/Pulumi.<stack>.yaml move tenant-style hosts
into a `launchready:tenantGroups` entry, split a `launchready:rateLimits` entry's `hosts`, or drop
`hosts` (the entry then covers every host with a flow under its path).""",
    spec_keys=("tenantGroups", "rateLimits", "redirects"),
    locator=lambda message, resource, spec: ratelimit_keys(message, (), fallback=()),
)
def rule_expression_length(props, config):
    for i, rule in enumerate(as_list(get(props, "rules"))):
        n = len(str(get(rule, "expression", default="")))
        if n > MAX_EXPRESSION:
            yield f"{rule_label(rule, i)}: the expression has {n:,} characters; Cloudflare accepts at most {MAX_EXPRESSION:,}."


def _depth(name: str, apex: str) -> int:
    """Labels below the apex (`*` counts as one): 0 for the apex, 1 for www or *.apex."""
    if name == apex:
        return 0
    return name[: -len(apex) - 1].count(".") + 1 if name.endswith("." + apex) else -1


def _covered(name: str, hosts: set[str]) -> bool:
    return name in hosts or "*." + name.partition(".")[2] in hosts


@stack_rule(
    "proxied-subdomain-certificate", area="apply", severity=HIGH, enforcement=MANDATORY,
    description=("A proxied record two or more labels below the zone apex (acme.portal.example.com, *.portal.example.com) "
                 "is covered by a certificate pack host (the name, or `*.` and its parent): Universal SSL covers only "
                 "the apex and *.apex, so browsers get a handshake failure on it."),
    remediation="""
A tenant group below a subdomain gets its certificate from the program (one advanced certificate per
group, infra/components/tlspolicy.py); make sure it is declared in `launchready:tenantGroups` rather
than as separate `hosts`/`records` (stacks/Pulumi.<stack>.yaml). For another deep name: move it one
label below the apex (portal-acme.example.com), make it DNS-only (`proxied: false`), or order an
advanced certificate covering it. A name covered in a way no resource shows (Total TLS, a custom
certificate) goes in the policy config: {"proxied-subdomain-certificate": {"exempt": ["a.b.example.com"]}}.""",
    config={"exempt": {"type": "array", "items": {"type": "string"}, "default": [],
                       "description": "Proxied names whose certificate comes from elsewhere (Total TLS, a custom certificate)."}},
    spec_keys=("tenantGroups", "hosts", "records"),
)
def proxied_subdomain_certificate(resources, config):
    packs: dict[str, set[str]] = {}
    for pack in of_type(resources, CERTIFICATE_PACK):
        packs.setdefault(zone_id(pack.props), set()).update(str(h).lower().rstrip(".") for h in as_list(get(pack.props, "hosts")))
    apexes: dict[str, str | None] = {}
    exempt = {e.lower().rstrip(".") for e in config["exempt"]}
    for r in of_type(resources, DNS_RECORD):
        if get(r.props, "proxied") is not True or str(get(r.props, "type", default="")).upper() not in ("A", "AAAA", "CNAME"):
            continue
        zone, name = zone_id(r.props), record_name(r.props)
        apex = apexes.setdefault(zone, _apex(resources, zone))
        if apex and _depth(name, apex) >= 2 and name not in exempt and not _covered(name, packs.get(zone, set())):
            yield (f"{name} is proxied {_depth(name, apex)} labels below {apex}; Universal SSL covers only {apex} and "
                   f"*.{apex}, and no certificate pack covers it: HTTPS handshakes to it would fail.", r.urn)


# This module's rules, in catalogue order (policies.rules.MODULES collects them).


def _tenant_record_counts(resources) -> dict[str, int]:
    """Records per tenant group, from the comment the program gives each (`tenant group <name> (...)`)."""
    counts: dict[str, int] = {}
    for rec in of_type(resources, DNS_RECORD):
        group = tenant_group_of(str(get(rec.props, "comment", default="")), record_name(rec.props))
        if group:
            counts[group] = counts.get(group, 0) + 1
    return counts


def _group_locator(message: str, spec) -> list[str]:
    names = [g.name for g in getattr(spec, "tenant_groups", None) or []]
    return [f"tenantGroups[{names.index(n)}].wildcard" for n in names if f"tenant group {n!r}" in message][:1]


@stack_rule(
    "tenant-group-records", area="apply", severity=LOW, enforcement=ADVISORY,
    description=(f"An explicit tenant group publishes at most maxRecords records (1,000 by default): every record is "
                 f"one Cloudflare API call at `pulumi up` ({API_REQUESTS_PER_5_MIN:,} per five minutes per user), "
                 "and about 2 ms and 130 KB in plan and gate under the Pulumi SDK."),
    remediation="""
Set `wildcard: true` on the group in `launchready:tenantGroups` (stacks/Pulumi.<stack>.yaml): one
`*.<domain>` record serves every tenant, new tenants need no deploy, and `tenants` stays the list
verify sweeps and monitors sample. Names the wildcard must not serve go in `except`. Keep an explicit
group when only the listed names may resolve, and raise the threshold for it:
{"tenant-group-records": {"maxRecords": 20000}}.""",
    config={"maxRecords": {"type": "integer", "minimum": 1, "default": 1000,
                           "description": "Records an explicit tenant group may publish before the advisory."}},
    spec_keys=("tenantGroups",),
    locator=lambda message, resource, spec: _group_locator(message, spec),
)
def tenant_group_records(resources, config):
    for group, count in sorted(_tenant_record_counts(resources).items()):
        if count > config["maxRecords"]:
            minutes = count / API_REQUESTS_PER_5_MIN * 5
            took = f"at least {minutes:,.0f} minutes of" if minutes >= 1 else f"{count:,}"
            yield (f"tenant group {group!r} publishes {count:,} DNS records, one per tenant: `pulumi up` needs {took} "
                   "Cloudflare API calls for them; `wildcard: true` makes it one record.")


RULES = (
    certificate_pack_valid, certificate_pack_caa, rule_expression_length, proxied_subdomain_certificate,
    tenant_group_records,
)
