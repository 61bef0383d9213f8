"""Mail rules: SPF, DMARC, DKIM per sending provider, and names that never send mail."""
from __future__ import annotations

import re
from collections import defaultdict

from infra.knowledge.mailrecords import (
    SpfTerm,
    dmarc_tags,
    spf_all,
    spf_modifier,
    spf_terms,
)
from infra.spec.mailcatalog import catalog, recognisers

from ..context import current_spec
from ..props import (
    DNS_RECORD,
    SES_IDENTITY,
    fmt_num,
    get,
    num,
    of_type,
    record_name,
    txt_content,
)
from ..registry import HIGH, MANDATORY, MEDIUM, resource_rule, stack_rule


def _type(props) -> str:
    return str(get(props, "type", default="")).upper()


def _is_spf(props) -> bool:
    return _type(props) == "TXT" and txt_content(props).strip().lower().startswith("v=spf1")


def _is_minus_all(t: SpfTerm) -> bool:
    return t.qualifier == "-" and t.name == "all" and not t.value


@resource_rule(
    "spf-strict-all", area="mail", types=[DNS_RECORD], severity=HIGH, enforcement=MANDATORY,
    description="SPF records end in '-all'; never '+all', '?all' or no 'all' at all, which let anyone send as the domain. '~all' (soft fail) is accepted only outside production, or where allowSoftfail is set.",
    remediation="""
Set `launchready:mail` → `spf.all: "-all"` in stacks/Pulumi.<stack>.yaml (the program builds one
SPF record per name from the providers and ends it with that value). Remove any hand-written SPF
in `launchready:records`, or end it with `-all`. '+all' authorises every server on the internet;
'?all' and a missing 'all' say "no opinion"; '~all' asks receivers to accept failing mail anyway
(it is for the weeks of a migration: set {"spf-strict-all": {"allowSoftfail": true}} in the
policy config for that time).""",
    config={"allowSoftfail": {"type": "boolean", "default": False,
                              "description": "Accept '~all' (soft fail), e.g. while migrating senders. True outside production."}},
    spec_keys=("mail.spf.all", "mail.spf", "mail", "records"),
)
def spf_strict_all(props, config):
    if not _is_spf(props):
        return
    terms = spf_terms(txt_content(props))
    qualifier = spf_all(terms)
    name = record_name(props)
    if qualifier is None:
        if spf_modifier(terms, "redirect") is None:
            yield f"{name}: SPF has no 'all' mechanism (receivers treat it as neutral); end it with '-all'."
    elif qualifier in ("+", "?"):
        yield f"{name}: SPF ends in '{qualifier}all'; it must end in '-all'."
    elif qualifier == "~" and not config["allowSoftfail"]:
        yield f"{name}: SPF ends in '~all' (soft fail); it must end in '-all'."


# What an SPF include costs in DNS lookups (itself included, plus the a/mx/include terms inside it)
# comes from the spec's provider catalog (infra/spec/mail_providers.yaml, `spf_lookups`), the one
# table the spec, the gate and verify share: a stack near 10 lookups passes or fails the same way
# in every room. Read from a file in the repository: no DNS, so the policy stays offline.
def catalog_include_costs() -> dict[str, int]:
    from infra.spec.mailspec import catalog

    return {str(k).lower(): int(v) for k, v in (catalog().get("spf_lookups") or {}).items()}


# Senders the catalog has no provider entry for (it lists only providers the spec can declare), but
# whose includes show up in hand-written SPF records. Used only for includes absent from the
# catalog; the catalog wins for any include it knows. Numbers from the published records.
POLICY_ONLY_INCLUDE_COSTS = {
    "_spf.resend.com": 1, "spf.mandrillapp.com": 1, "servers.mcsv.net": 1, "_spf.salesforce.com": 1,
    "spf.sendinblue.com": 4, "mail.zendesk.com": 1,
}
# An include neither the catalog nor the policy config prices counts as 1 (the include itself): the
# policy cannot resolve it offline, so the count is a lower bound and the message says so.
UNKNOWN_INCLUDE_COST = 1


def include_cost(include: str, configured: dict) -> tuple[int, bool]:
    """(lookups, known) for an include: catalog, else policy config/defaults, else UNKNOWN_INCLUDE_COST."""
    include = include.lower().rstrip(".")
    catalog_costs = catalog_include_costs()
    if include in catalog_costs:
        return catalog_costs[include], True
    extra = {**POLICY_ONLY_INCLUDE_COSTS, **{str(k).lower(): v for k, v in (configured or {}).items()}}
    if include in extra:
        return int(num(extra[include])), True
    return UNKNOWN_INCLUDE_COST, False


@resource_rule(
    "spf-lookup-limit", area="mail", types=[DNS_RECORD], severity=MEDIUM, enforcement=MANDATORY,
    description="An SPF record needs at most 10 DNS lookups (RFC 7208 §4.6.4); beyond that receivers return permerror and SPF fails for every message.",
    remediation="""
Remove providers that no longer send for the domain from `launchready:mail`, or move a provider to
its own subdomain (e.g. a MAIL FROM like bounce.example.com) so each name stays under 10 lookups.
Lookups: include, a, mx, ptr, exists and redirect each cost one, plus the includes' own lookups.
An include costs what the provider catalog (infra/spec/mail_providers.yaml, `spf_lookups`) says,
the same number the spec checks; an include the catalog does not know costs its `includeCosts`
entry in the policy config, else 1 (a lower bound: the policy does not query DNS).""",
    config={
        "maxLookups": {"type": "integer", "minimum": 1, "maximum": 10, "default": 10,
                       "description": "Most DNS lookups an SPF record may need."},
        "includeCosts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                         "default": POLICY_ONLY_INCLUDE_COSTS,
                         "description": "Lookups that includes absent from the provider catalog cost (themselves included); "
                                        "added to these defaults. Includes the catalog knows always cost the catalog's number."},
    },
    spec_keys=("mail.spf", "mail", "records"),
)
def spf_lookup_limit(props, config):
    if not _is_spf(props):
        return
    count = 0
    unpriced: list[str] = []
    for t in spf_terms(txt_content(props)):
        if (t.name == "include" and t.qualifier != "=") or (t.name == "redirect" and t.qualifier == "="):
            cost, known = include_cost(t.value, config["includeCosts"])
            count += cost
            if not known:
                unpriced.append(t.value)
        elif t.name in ("a", "mx", "ptr", "exists") and t.qualifier != "=":
            count += 1
    if count > num(config["maxLookups"]):
        about, note = "about", ""
        if unpriced:
            about = "at least"
            note = f" (counting {UNKNOWN_INCLUDE_COST} for each include of unknown cost: {', '.join(unpriced)})"
        yield (f"{record_name(props)}: SPF needs {about} {fmt_num(count)} DNS lookups; "
               f"at most {fmt_num(config['maxLookups'])} are allowed{note}.")


@stack_rule(
    "spf-single-record", area="mail", severity=HIGH, enforcement=MANDATORY,
    description="Each name has at most one SPF record; two make SPF fail with permerror for every message (RFC 7208 §3.2).",
    remediation="""
Merge the SPF records into one: `launchready:mail` builds a single record per name from all
providers; delete any extra `v=spf1` TXT under `launchready:records` in stacks/Pulumi.<stack>.yaml.""",
    spec_keys=("records", "mail"),
)
def spf_single_record(resources, config):
    by_name = defaultdict(list)
    for r in of_type(resources, DNS_RECORD):
        if _is_spf(r.props):
            by_name[record_name(r.props)].append(r)
    for name, recs in by_name.items():
        if len(recs) > 1:
            yield (f"{name} has {len(recs)} SPF records; merge them into one.", recs[1].urn)


# -- DMARC -----------------------------------------------------------------------------------------

def _is_dmarc(props) -> bool:
    return (_type(props) == "TXT" and record_name(props).startswith("_dmarc.")
            and txt_content(props).strip().lower().startswith("v=dmarc1"))


_STRENGTH = {"none": 0, "quarantine": 1, "reject": 2}


@resource_rule(
    "dmarc-policy", area="mail", types=[DNS_RECORD], severity=HIGH, enforcement=MANDATORY,
    description="In production, DMARC asks receivers to quarantine or reject mail that fails authentication (p and sp at least quarantine, pct=100).",
    remediation="""
Set the DMARC policy in `launchready:mail` (stacks/Pulumi.<stack>.yaml) to `quarantine` or `reject`.
Roll out in steps: p=none with rua reports in staging, read the reports for two weeks, fix any
legitimate sender that fails, then quarantine, then reject. p=none in production lets anyone
spoof invites and password-reset mail.""",
    config={
        "minimumPolicy": {"type": "string", "enum": ["none", "quarantine", "reject"], "default": "quarantine",
                          "description": "Weakest acceptable p= (and sp=)."},
    },
    spec_keys=("mail.dmarc", "mail"),
    locator=lambda message, resource, spec: (
        ["mail.dmarc.policy"] if "DMARC p=" in message else ["mail.dmarc.subdomainPolicy"] if "sp=" in message
        else ["mail.dmarc.pct"] if "pct=" in message else []),
)
def dmarc_policy(props, config):
    if not _is_dmarc(props):
        return
    tags = dmarc_tags(txt_content(props))
    name = record_name(props)
    minimum = _STRENGTH[config["minimumPolicy"]]
    p = tags.get("p", "").lower()
    if _STRENGTH.get(p, -1) < minimum:
        spec = current_spec()
        staged = spec is not None and spec.mail is not None and spec.mail.dmarc.staged_rollout
        note = (" (`stagedRollout: true` does not relax this in production: run the p=none phase in a "
                "staging stack, or set `policy: quarantine`)") if staged else ""
        yield f"{name}: DMARC p={p or '(missing)'}; production needs at least p={config['minimumPolicy']}{note}."
    sp = tags.get("sp", "").lower()
    if sp and _STRENGTH.get(sp, -1) < minimum:
        yield f"{name}: DMARC sp={sp} weakens the policy for subdomains; use at least sp={config['minimumPolicy']}."
    pct = num(tags.get("pct", "100"))
    if pct is not None and pct < 100 and minimum > 0:
        yield f"{name}: DMARC pct={tags['pct']} applies the policy to only part of the failing mail; use pct=100."


def _dmarc_for(name: str, dmarc: dict[str, dict]) -> tuple[str, dict] | None:
    """The DMARC record that governs `name`: its own, else its organisational domain's (a parent)."""
    labels = name.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in dmarc:
            return candidate, dmarc[candidate]
    return None


def _mail_facts(resources):
    records = of_type(resources, DNS_RECORD)
    spf: dict[str, str] = {}
    dmarc: dict[str, dict] = {}
    dkim: dict[str, list] = defaultdict(list)   # signing domain -> [(selector, type, content)]
    mx: dict[str, list] = defaultdict(list)
    for r in records:
        name, rtype = record_name(r.props), _type(r.props)
        if _is_spf(r.props):
            spf[name] = txt_content(r.props)
        elif _is_dmarc(r.props):
            dmarc[name[len("_dmarc."):]] = dmarc_tags(txt_content(r.props))
        elif "._domainkey." in name:
            selector, domain = name.split("._domainkey.", 1)
            dkim[domain].append((selector, rtype, str(get(r.props, "content", default="")).lower()))
        if rtype == "MX":
            mx[name].append((num(get(r.props, "priority")), str(get(r.props, "content", default="")).rstrip(".")))
    return records, spf, dmarc, dkim, mx


def _sending_names(resources, spf, dkim) -> set[str]:
    names = {n for n, text in spf.items() if [t for t in spf_terms(text) if not _is_minus_all(t)]}
    names |= set(dkim)
    for r in of_type(resources, SES_IDENTITY):
        identity = str(get(r.props, "emailIdentity", default="")).lower()
        if identity and "@" not in identity:
            names.add(identity)
    return names


@stack_rule(
    "dmarc-present", area="mail", severity=HIGH, enforcement=MANDATORY,
    description="Every name that sends mail (SPF with senders, DKIM keys, an SES identity) is covered by a DMARC record (its own or its organisational domain's).",
    remediation="""
Declare DMARC in `launchready:mail` (stacks/Pulumi.<stack>.yaml): the program publishes it as
`_dmarc.<domain>` TXT. Without DMARC, receivers have no instruction for mail that fails SPF/DKIM
and Gmail/Yahoo bulk-sender rules reject or junk the portal's invites.""",
    spec_keys=("mail.dmarc", "mail"),
)
def dmarc_present(resources, config):
    _, spf, dmarc, dkim, _ = _mail_facts(resources)
    for name in sorted(_sending_names(resources, spf, dkim)):
        if _dmarc_for(name, dmarc) is None:
            yield f"{name} sends mail but no DMARC record covers it (expected _dmarc.{name} or a parent's)."


# How to recognise that a provider sends for a name (SPF include, DKIM target or selector): the
# spec's provider catalogue (infra/spec/mail_providers.yaml, `recognise`), the same data the
# program publishes records from.
SES_TITLE = catalog()["providers"]["ses"]["title"]


def _has_dkim(provider: dict, keys: list) -> bool:
    for selector, _rtype, content in keys:
        if any(re.search(p, content.rstrip(".")) for p in provider["dkim"]):
            return True
        if provider["selector"] and re.search(provider["selector"], selector):
            return True
    return False


@stack_rule(
    "dmarc-rua", area="mail", severity=MEDIUM, enforcement=MANDATORY,
    description="The DMARC record that covers a sending name asks for aggregate reports (rua=mailto:...), so failures and spoofing attempts are seen.",
    remediation="""
Set `rua` in the DMARC part of `launchready:mail` (stacks/Pulumi.<stack>.yaml) to a mailbox you
read or a DMARC report service, e.g. `mailto:dmarc-reports@example.com`. An address at another
domain must authorise it with a `<your-domain>._report._dmarc.<other-domain>` TXT record.""",
    spec_keys=("mail.dmarc.rua", "mail.dmarc", "mail"),
)
def dmarc_rua(resources, config):
    _, spf, dmarc, dkim, _ = _mail_facts(resources)
    reported = set()
    for name in sorted(_sending_names(resources, spf, dkim)):
        governing = _dmarc_for(name, dmarc)
        if governing is None or governing[0] in reported:
            continue  # dmarc-present reports a missing record
        reported.add(governing[0])
        rua = governing[1].get("rua", "")
        if not any(u.strip().lower().startswith("mailto:") and "@" in u for u in rua.split(",")):
            yield f"_dmarc.{governing[0]}: DMARC has no rua=mailto: address for aggregate reports (it covers {name}, which sends mail)."


@stack_rule(
    "dkim-per-provider", area="mail", severity=HIGH, enforcement=MANDATORY,
    description="Every provider that sends for a name (found from SPF includes and SES identities) has its DKIM key published for that name.",
    remediation="""
Add the provider's DKIM record to `launchready:mail` in stacks/Pulumi.<stack>.yaml (for SES the
program publishes the three Easy DKIM CNAMEs itself; for a DNS-only provider copy the selector and
key from its dashboard). Without DKIM, DMARC can only pass through SPF, which breaks on forwarding.""",
    spec_keys=("mail.providers", "mail"),
)
def dkim_per_provider(resources, config):
    _, spf, _, dkim, _ = _mail_facts(resources)
    senders: dict[str, set[str]] = defaultdict(set)
    for name, text in spf.items():
        includes = {t.value for t in spf_terms(text) if t.name == "include" and t.qualifier == "+"}
        for provider, facts in recognisers().items():
            if includes & set(facts["spf"]):
                senders[name].add(provider)
    for r in of_type(resources, SES_IDENTITY):
        identity = str(get(r.props, "emailIdentity", default="")).lower()
        if identity and "@" not in identity:
            senders[identity].add(SES_TITLE)
    for name in sorted(senders):
        # The key may sit at the name or at a parent: a MAIL FROM subdomain (bounce.example.com)
        # includes the provider in its SPF while DKIM signs for the From domain (example.com).
        keys = [k for d, ks in dkim.items() if d == name or name.endswith("." + d) for k in ks]
        for provider in sorted(senders[name]):
            if not _has_dkim(recognisers()[provider], keys):
                yield f"{name}: {provider} sends for it but no {provider} DKIM key is published under _domainkey."


@stack_rule(
    "non-sending-lockdown", area="mail", severity=MEDIUM, enforcement=MANDATORY,
    description="Names that never send mail (SPF 'v=spf1 -all' or a null MX) are fully locked down: null MX (MX 0 .), 'v=spf1 -all' and DMARC p=reject.",
    remediation="""
List the name under the non-sending names of `launchready:mail` in stacks/Pulumi.<stack>.yaml; the
program then publishes all three records (null MX `0 .`, `v=spf1 -all`, DMARC `p=reject`). One
record alone still leaves the name spoofable or lets mail to it queue for days.""",
    spec_keys=("mail",),
)
def non_sending_lockdown(resources, config):
    records, spf, dmarc, dkim, mx = _mail_facts(resources)
    null_mx = {n for n, entries in mx.items() if any(c in ("", ".") for _, c in entries)}
    locked = {n for n, text in spf.items() if [_is_minus_all(t) for t in spf_terms(text)] == [True]}
    for name in sorted(locked | null_mx):
        problems = []
        if name not in null_mx:
            problems.append("no null MX (MX 0 .)")
        elif len(mx[name]) > 1:
            problems.append("a null MX next to other MX records")
        if name not in locked:
            problems.append("no 'v=spf1 -all'")
        governing = _dmarc_for(name, dmarc)
        if governing is None:
            problems.append("no DMARC record")
        else:
            owner, tags = governing
            policy = tags.get("p", "") if owner == name else tags.get("sp", tags.get("p", ""))
            if policy.lower() != "reject":
                problems.append(f"DMARC {'p' if owner == name else 'sp'}={policy or '(missing)'} instead of reject")
        if problems:
            yield f"{name} does not send mail but has " + ", ".join(problems) + "."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    spf_strict_all, spf_lookup_limit, spf_single_record, dmarc_policy, dmarc_present, dmarc_rua,
    dkim_per_provider, non_sending_lockdown,
)
