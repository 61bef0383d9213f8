"""Render a mock run as a launch plan (console or JSON). Renders only: it computes nothing."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.contractview import monitor_line, tenant_lines
from infra.findings import Finding
from infra.mockrun import PlannedResource, PlanRun
from infra.spec.records import tenant_group_of
from infra.spec.redact import redact_tree

Describer = Callable[[dict[str, Any]], str]
DESCRIBERS: dict[str, Describer] = {}


def describes(*types: str):
    def register(fn: Describer) -> Describer:
        for t in types:
            DESCRIBERS[t] = fn
        return fn
    return register


@describes("cloudflare:index/dnsRecord:DnsRecord")
def _dns(i):
    if str(i.get("comment", "")).startswith("SES Easy DKIM"):
        # The token is a mock value here; SES issues the real three at `pulumi up`.
        return (f'CNAME <token>._domainkey.{str(i.get("name")).split("._domainkey.", 1)[-1]} → '
                f'<token>.dkim.amazonses.com (SES Easy DKIM; the token is issued at apply, shown here as a mock)')
    return _dns_record(i)


def _dns_record(i):
    if i.get("type") == "CAA" and i.get("data"):
        d = i["data"]
        content = f'{int(d.get("flags", 0))} {d.get("tag")} "{d.get("value")}"'
    else:
        content = i.get("content", "")
    prio = f' prio {int(i["priority"])}' if i.get("priority") is not None else ""
    ttl = "auto" if int(i.get("ttl") or 1) == 1 else f'{int(i["ttl"])}s'
    edge = "proxied" if i.get("proxied") else f"DNS only, ttl {ttl}"
    return f'{i.get("type")} {i.get("name")} → {content}{prio} ({edge})'


@describes("cloudflare:index/zoneSetting:ZoneSetting")
def _setting(i):
    value = i.get("value")
    if isinstance(value, dict) and "strict_transport_security" in value:
        h = value["strict_transport_security"]
        value = (f'HSTS {"on" if h.get("enabled") else "OFF"}, max-age {int(h.get("max_age", 0))}'
                 f'{", includeSubDomains" if h.get("include_subdomains") else ""}{", preload" if h.get("preload") else ""}')
    return f'{i.get("settingId")} = {value}'


@describes("cloudflare:index/ruleset:Ruleset")
def _ruleset(i):
    lines = [f'{i.get("phase")}: {len(i.get("rules") or [])} rule(s)']
    for rule in i.get("rules") or []:
        lines.append(f'  • {rule.get("description") or rule.get("action")}  [{rule.get("action")}]')
    return "\n".join(lines)


@describes("cloudflare:index/certificatePack:CertificatePack")
def _certificate_pack(i):
    return (f'{i.get("type")} certificate {", ".join(i.get("hosts") or [])} by {i.get("certificateAuthority")},'
            f' {int(i.get("validityDays") or 0)} days, {i.get("validationMethod")} validation'
            " (needs the Advanced Certificate Manager add-on)")


@describes("cloudflare:index/zoneDnssec:ZoneDnssec")
def _dnssec(i):
    return f'DNSSEC status = {i.get("status")}'


@describes("cloudflare:index/zone:Zone")
def _zone(i):
    return f'create zone {i.get("name")} ({i.get("type", "full")})'


# -- mail, secrets, monitoring -----------------------------------------------------------------------

def _tail(arn: Any) -> str:
    return str(arn or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1][:12] or "?"


@describes("aws:sesv2/emailIdentity:EmailIdentity")
def _ses_identity(i):
    dkim = (i.get("dkimSigningAttributes") or {}).get("nextSigningKeyLength", "default")
    return f'SES identity {i.get("emailIdentity")} in {i.get("region")}: Easy DKIM {dkim}, 3 CNAMEs from its tokens'


@describes("aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes")
def _ses_mail_from(i):
    return f'MAIL FROM {i.get("mailFromDomain")} (if its MX is missing: {i.get("behaviorOnMxFailure")})'


@describes("cloudflare:index/workersScript:WorkersScript")
def _worker(i):
    content = str(i.get("content") or "")
    text = f'Worker {i.get("scriptName")} ({i.get("mainModule")}, {len(content)} bytes)'
    if "const POLICY = " in content:
        policy = json.loads(content.split("const POLICY = ", 1)[1].split(";\n", 1)[0])
        text += " serving /.well-known/mta-sts.txt: " + ", ".join(line for line in policy.splitlines() if line)
    return text


@describes("cloudflare:index/workersRoute:WorkersRoute")
def _worker_route(i):
    return f'route {i.get("pattern")} → Worker {i.get("script")}'


@describes("aws:kms/key:Key")
def _kms_key(i):
    rot = f'rotation every {int(i.get("rotationPeriodInDays") or 365)} days' if i.get("enableKeyRotation") else "ROTATION OFF"
    where = f', {i["region"]}' if i.get("region") else ""
    policy = ", custom key policy" if i.get("policy") else ""
    return f'customer-managed KMS key, {rot}, deletion window {int(i.get("deletionWindowInDays") or 30)} days{where}{policy}'


@describes("aws:kms/alias:Alias")
def _kms_alias(i):
    return f'{i.get("name")} → key {_tail(i.get("targetKeyId"))}'


@describes("aws:secretsmanager/secret:Secret")
def _secret(i):
    return f'secret {i.get("name")} (KMS key {_tail(i.get("kmsKeyId"))}, recovery window {int(i.get("recoveryWindowInDays") or 30)} days)'


@describes("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(i):
    if "secretStringWo" in i:
        return (f'value write-only ({i.get("secretStringWo")}), never in plaintext: stored encrypted in state inputs '
                f'(bridge issue #3201); version {int(i.get("secretStringWoVersion") or 0)}')
    # Never the value itself: the masked form is printed only when the SDK marked it secret.
    return "value stored IN STATE (secretString, not write-only)"


@describes("aws:secretsmanager/secretRotation:SecretRotation")
def _secret_rotation(i):
    days = (i.get("rotationRules") or {}).get("automaticallyAfterDays")
    return f'rotate every {int(days or 0)} days with {i.get("rotationLambdaArn")}'


@describes("random:index/randomPassword:RandomPassword")
def _random(i):
    return f'generated value, {int(i.get("length") or 0)} characters{", with specials" if i.get("special") else ""}'


@describes("aws:ssm/parameter:Parameter")
def _ssm(i):
    if i.get("type") == "SecureString":
        return f'{i.get("name")} SecureString (KMS key {_tail(i.get("keyId"))}) = {i.get("valueWo", i.get("value"))}, write-only'
    return f'{i.get("name")} {i.get("type")} = {i.get("insecureValue", i.get("value"))}'


@describes("aws:sns/topic:Topic")
def _topic(i):
    return f'alert topic {i.get("name")} in {i.get("region")}, encrypted (KMS key {_tail(i.get("kmsMasterKeyId"))})'


@describes("aws:sns/topicSubscription:TopicSubscription")
def _subscription(i):
    return f'{i.get("protocol")} → {i.get("endpoint")}'


@describes("aws:route53/healthCheck:HealthCheck")
def _health_check(i):
    extras = [x for x, on in (("SNI", i.get("enableSni")), ("latency", i.get("measureLatency"))) if on]
    return (f'{i.get("type")} https://{i.get("fqdn")}{i.get("resourcePath")} every {int(i.get("requestInterval") or 30)}s, '
            f'unhealthy after {int(i.get("failureThreshold") or 3)} failures ({", ".join(extras)})')


@describes("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(i):
    stat = i.get("extendedStatistic") or i.get("statistic")
    op = {"LessThanThreshold": "<", "GreaterThanThreshold": ">"}.get(i.get("comparisonOperator"), i.get("comparisonOperator"))
    wired = "alarm+OK → topic" if i.get("alarmActions") and i.get("okActions") else "NOT WIRED"
    return f'{i.get("name")}: {i.get("metricName")} {stat} {op} {i.get("threshold"):g} over {int(i.get("period") or 0)}s ({wired})'


@describes("cloudflare:index/notificationPolicy:NotificationPolicy")
def _notification(i):
    emails = [m.get("id") for m in (i.get("mechanisms") or {}).get("emails") or []]
    return f'Cloudflare alert {i.get("alertType")} → {", ".join(emails) or "nobody"}'


def _generic(i: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in i.items() if isinstance(v, (str, int, float, bool)) and k not in ("zoneId",)][:5]
    return ", ".join(shown)


def printable_inputs(res: PlannedResource) -> dict:
    """Inputs as they may be shown: secret values masked, credentials inside URLs hidden."""
    return redact_tree(res.masked_inputs())


def describe(res: PlannedResource) -> str:
    return DESCRIBERS.get(res.type, _generic)(printable_inputs(res))


def _short_type(t: str) -> str:
    pkg, _, rest = t.partition(":")
    return f"{pkg}:{rest.rsplit(':', 1)[-1]}"


# Components in the order a launch happens (zone, records, TLS, edge rules, mail, secrets, env,
# monitors), each with the title a reader looks for. Unknown components follow, alphabetically.
COMPONENT_TITLES = {
    "launchready:edge:Zone": "Zone",
    "launchready:dns:Records": "DNS records",
    "launchready:dns:Dnssec": "DNSSEC",
    "launchready:edge:TlsSettings": "TLS",
    "launchready:edge:TenantCertificates": "Certificates of tenant groups below a subdomain",
    "launchready:edge:Rules": "Edge rules: redirects, WAF, rate limits, cache, headers",
    "launchready:mail:MailAuth": "Mail authentication: SES identity, MTA-STS policy",
    "launchready:secrets:SecretStore": "Secret store (Secrets Manager, KMS)",
    "launchready:secrets:EnvContract": "Production env contract (SSM)",
    "launchready:monitoring:Monitors": "Monitors: health checks, alarms, alert routing",
}
_ORDER = {t: i for i, t in enumerate(COMPONENT_TITLES)}


def grouped(run: PlanRun) -> dict[str, list[PlannedResource]]:
    """Resources by outermost component, in launch order (registration order is not stable)."""
    groups: dict[tuple, list[PlannedResource]] = defaultdict(list)
    for res in sorted(run.custom(), key=lambda r: (r.type, r.name)):
        top = run.top_component(res)
        if top is None:
            key = (len(_ORDER) + 1, "stack")
        else:
            title = COMPONENT_TITLES.get(top.type, top.type.split(":")[-1])
            key = (_ORDER.get(top.type, len(_ORDER)), f"{title} ({top.name})")
        groups[key].append(res)
    return {label: resources for (_, label), resources in sorted(groups.items())}


def plan_line(contract: dict) -> str:
    """The zone's Cloudflare plan: declared, or derived from what the stack declares (and why)."""
    zp = contract.get("zonePlan") or {}
    plan = str(zp.get("plan", "?")).capitalize()
    if zp.get("declared"):
        return f"Cloudflare plan {plan} (declared in zone.plan)"
    why = ", ".join(zp.get("neededBy") or []) or "nothing needs more"
    return f"Cloudflare plan {plan} (derived: {why}; declare zone.plan to have the gate check your real plan)"


def zone_line(run: PlanRun) -> str:
    contract = run.outputs.get("launchContract") or {}
    created = run.of_type("cloudflare:index/zone:Zone")
    if created:
        where = "created by this stack (delegate to the nameServers output)"
    else:
        where = "existing, looked up in Cloudflare at deploy time (not created)"
    return f"zone {contract.get('domain', '?')}: {where}; {plan_line(contract)}"


def tenant_record_group(res: PlannedResource) -> str:
    """The tenant group a per-tenant DNS record belongs to ("" for any other resource)."""
    if res.type != "cloudflare:index/dnsRecord:DnsRecord":
        return ""
    return tenant_group_of(str(res.inputs.get("comment", "")), str(res.inputs.get("name", "")))


def collapsed(resources: list[PlannedResource], expand: set[str]) -> list[tuple[str, str]]:
    """(resource, description) rows: a tenant group's records as one row unless it is expanded."""
    rows: list[tuple[str, str]] = []
    folded: dict[str, list[PlannedResource]] = defaultdict(list)
    for res in resources:
        group = tenant_record_group(res)
        if group and group not in expand and "all" not in expand:
            folded[group].append(res)
            continue
        note = f"\n{adoption(res)}" if res.import_id else ""
        rows.append((f"{_short_type(res.type)}\n{res.name}", describe(res) + note))
    for group, records in folded.items():
        first = printable_inputs(records[0])
        rows.append((f"{_short_type(records[0].type)}\n× {len(records):,}",
                     f"tenant group {group}: {len(records):,} records {first.get('type')} <tenant>"
                     f" → {first.get('content')} (`launchready plan --expand {group}` lists them)"))
    return rows


def adoption(res: PlannedResource) -> str:
    """What adopting an existing resource means, in one line ("" when the resource is created)."""
    if not res.import_id:
        return ""
    existing = res.import_id.rsplit("/", 1)[-1]
    i = res.inputs
    if res.type == "cloudflare:index/ruleset:Ruleset":
        return f"adopts existing ruleset {existing} ({i.get('phase')})"
    if res.type == "cloudflare:index/dnsRecord:DnsRecord":
        return f"adopts existing DNS record {existing} ({i.get('type')} {i.get('name')})"
    return f"adopts existing {_short_type(res.type)} {res.import_id}"


def adopted(run: PlanRun) -> list[PlannedResource]:
    """Resources imported (Pulumi's `import` option) rather than created, in a stable order."""
    return sorted((r for r in run.custom() if r.import_id), key=lambda r: (r.type, r.name))


def render_console(run: PlanRun, console: Console, advisories: Sequence[Finding] = (),
                   expand: Sequence[str] = ()) -> None:
    contract = run.outputs.get("launchContract") or {}
    console.print(f"[bold]Launch plan[/bold] for stack [cyan]{run.stack}[/cyan]"
                  f" — {contract.get('domain', '?')} ({contract.get('environment', '?')}),"
                  f" canonical host {contract.get('canonicalHost', '?')}")
    console.print(escape(zone_line(run)))
    for line in [*tenant_lines(contract), monitor_line(contract)]:
        if line:
            console.print(escape(line))
    if adopted(run):
        console.print("[bold]Adopted[/bold] (imported by id, not created; `pulumi up` then applies the declared settings):")
        for res in adopted(run):
            console.print(f"  • {escape(adoption(res))}")
    for label, resources in grouped(run).items():
        table = Table(title=label, title_justify="left", show_header=True, expand=False)
        table.add_column("resource", style="dim", no_wrap=True)
        table.add_column("settings that matter")
        for name, text in collapsed(resources, set(expand)):
            # escape: "[secret]" and other brackets are text, not rich markup.
            table.add_row(name, escape(text))
        console.print(table)
    n, m = len(run.custom()), len(adopted(run))
    what = f"[bold]{n - m}[/bold] resources to create and [bold]{m}[/bold] to adopt" if m else f"[bold]{n}[/bold] resources to create"
    console.print(f"{what} in {len(grouped(run))} components; "
                  f"stack outputs: {', '.join(sorted(run.outputs))}.")
    console.print("No cloud call was made: providers were mocked, and secret config values were not decrypted "
                  "or, when unset, replaced by a placeholder (they show as \\[secret]). Apply with `pulumi up --stack "
                  f"{run.stack}`.")
    if advisories:
        console.print("[bold yellow]Before you apply[/bold yellow] — secrets to set, values that look copied from the example:")
        for f in advisories:
            console.print(f"  • {escape(f.message)}")


def render_json(run: PlanRun, advisories: Sequence[Finding] = ()) -> str:
    by = grouped(run)
    doc = {
        "stack": run.stack,
        "zone": zone_line(run),
        "tenantGroups": tenant_lines(contract := run.outputs.get("launchContract") or {}),
        "monitors": monitor_line(contract),
        "beforeApply": [f.message for f in advisories],
        "advisories": [f.to_dict() for f in advisories],
        "adopts": [{"type": r.type, "name": r.name, "urn": r.urn, "importId": r.import_id, "message": adoption(r)}
                   for r in adopted(run)],
        "components": [
            {"component": label, "resources": [
                {"type": r.type, "name": r.name, "urn": r.urn, "inputs": printable_inputs(r),
                 **({"importId": r.import_id} if r.import_id else {})} for r in resources
            ]} for label, resources in by.items()
        ],
        "outputs": redact_tree(run.outputs),
        "resourceCount": len(run.custom()),
    }
    return json.dumps(doc, indent=2, sort_keys=False, default=str)
