"""The launch contract: what verify will check after apply, derived from the spec alone.

Exported as the stack output `launchContract`. Facts known only after apply (SES DKIM tokens,
health-check ids) are not part of it; verify reads those from `pulumi stack output --json`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from infra.edgerules import rate_limit_targets, zone_settings
from infra.knowledge.awsprices import PRICED_AS_OF, monthly_usd
from infra.spec import Spec, planned_records
from infra.spec.mailplan import NULL_MX
from infra.spec.monitorspec import METRICS_REGION
from infra.spec.secretspec import (
    TAG_ENV,
    TAG_SECRET,
    TAG_STACK,
    LambdaRotation,
    ManualRotation,
    SecretRef,
    rotation_tags,
)
from infra.spec.zoneplan import plan_summary

CONTRACT_VERSION = 1


def build_contract(spec: Spec, outputs: Mapping[str, Any] | None = None) -> dict:
    """The contract; `outputs` (stack outputs after apply) fills in the SES DKIM records."""
    records = []
    for rec in planned_records(spec):
        item = asdict(rec)
        item.pop("comment")
        records.append(item)
    return {
        "version": CONTRACT_VERSION,
        "domain": spec.domain,
        "environment": spec.environment,
        "canonicalHost": spec.canonical_name,
        "zonePlan": plan_summary(spec),
        "aliasHost": spec.alias_name,
        # Explicit hosts, then each tenant group's sample: the hosts verify checks in full.
        "hosts": [
            {"name": h.name, "proxied": h.proxied, "api": h.api, "flows": dict(h.flows)} for h in spec.hosts
        ] + [
            {"name": name, "proxied": g.proxied, "api": g.api, "flows": dict(g.flows), "group": g.name}
            for g in spec.tenant_groups for name in g.sampled
        ],
        "tenantGroups": [tenant_group_contract(spec, g) for g in spec.tenant_groups],
        "records": records,
        "redirects": _redirect_expectations(spec),
        "tls": {
            "sslMode": spec.tls.ssl_mode,
            "minVersion": spec.tls.min_version,
            "tls13": spec.tls.tls13,
            "alwaysUseHttps": spec.tls.always_use_https,
            "hsts": zone_settings(spec.tls)["security_header"]["strict_transport_security"],
        },
        "headers": spec.headers.as_dict(),
        "rateLimits": [_rate_limit(spec, rl) for rl in spec.rate_limits],
        "cache": {"staticPaths": list(spec.cache.static_paths), "sessionCookie": spec.cache.session_cookie,
                  "staticTtl": spec.cache.static_ttl, "browserTtl": spec.cache.browser_ttl,
                  "bypassPaths": list(spec.cache.bypass_paths)},
        "caa": list(spec.caa),
        "dnssec": spec.dnssec,
        # mail, secrets, env contract, monitors (None when the section is absent)
        "mail": mail_contract(spec, outputs or {}),
        "secrets": secrets_contract(spec),
        "env": env_contract(spec),
        "monitoring": monitoring_contract(spec),
    }


def _rate_limit(spec: Spec, rl) -> dict:
    hosts, groups = rate_limit_targets(spec, rl)
    return {"path": rl.path, "hosts": hosts, "groups": [g.name for g in groups], "requests": rl.requests,
            "period": rl.period, "methods": list(rl.methods)}


def tenant_group_contract(spec: Spec, g) -> dict:
    """What verify sweeps over a group: every known tenant host, the record each must resolve to, the
    names the wildcard must not serve, and the hosts checked in full (`sampled`)."""
    return {
        "name": g.name, "domain": g.domain, "wildcard": g.wildcard, "origin": g.origin,
        "recordType": g.record_type, "proxied": g.proxied, "api": g.api, "flows": dict(g.flows),
        "hosts": g.hosts, "sampled": g.sampled,
        "exceptions": [g.host_name(label) for label in g.exceptions],
        "certificate": {"authority": g.certificate_authority, "names": [g.domain, g.pattern]}
        if g.needs_certificate(spec.domain) else None,
    }


def _redirect_expectations(spec: Spec) -> list[dict]:
    """Concrete request → response pairs verify can replay (path and query must survive)."""
    out = [{
        "from": f"https://{spec.alias_name}/some/path?q=1",
        "to": f"https://{spec.canonical_name}/some/path?q=1",
        "status": 301,
    }]
    for r in spec.redirects:
        host = spec.redirect_host(r)
        if r.group:
            # Replayed on the group's sampled hosts (a wildcard group without tenants has none).
            for name in spec.group(r.group).sampled:
                out.append({"from": f"https://{name}{r.from_}" + ("?ref=launch" if r.preserve_query else ""),
                            "to": r.target_url(name) + ("?ref=launch" if r.preserve_query else ""), "status": r.status})
            continue
        target = r.target_url(host)
        out.append({
            "from": f"https://{host}{r.from_}" + ("?ref=launch" if r.preserve_query else ""),
            "to": target + ("?ref=launch" if r.preserve_query else ""),
            "status": r.status,
        })
    return out


# -- mail, secrets, env contract, monitors ---------------------------------------------------------
# Names that contain the stack ("launchready/{stack}/smtp-password") are templates: the contract is
# a function of the spec alone, and verify knows which stack it checks.

SES_TOKEN_OUTPUT = "sesDkimTokens"


def mail_contract(spec: Spec, outputs: Mapping[str, Any]) -> dict | None:
    if spec.mail is None:
        return None
    mail, plan = spec.mail, spec.mail_plan
    dkim = [{"provider": d.provider, "selector": d.selector, "name": d.name, "type": d.type, "content": d.content}
            for d in plan.dkim]
    ses = []
    tokens = [str(t).lower() for t in (outputs.get(SES_TOKEN_OUTPUT) or [])]
    for _, provider, domain in plan.ses:
        values = provider.values(domain)
        ses.append({"domain": domain, "region": values["region"], "mailFrom": f"{values['mailFrom']}.{domain}",
                    "dkimTokensOutput": SES_TOKEN_OUTPUT, "dkimCount": 3,
                    "dkimName": "{token}._domainkey." + domain, "dkimTarget": "{token}.dkim.amazonses.com"})
        if tokens and domain == plan.primary_ses_domain:
            dkim += [{"provider": provider.provider, "selector": t, "name": f"{t}._domainkey.{domain}", "type": "CNAME",
                      "content": f"{t}.dkim.amazonses.com"} for t in tokens]
    mx = [{"name": r.name, "priority": r.priority, "host": r.content, "source": r.source}
          for r in plan.records if r.type == "MX" and r.content != NULL_MX]
    return {
        "domain": spec.domain,
        "providers": [{"provider": p.provider, "title": p.entry.get("title", p.provider), "domain": p.domain or spec.domain,
                       "managed": p.managed, "inbound": p.inbound} for p in mail.providers],
        "spf": [{"name": s.name, "value": s.value, "lookups": s.lookups, "includes": s.includes, "all": s.all}
                for s in plan.spf.values()],
        "dkim": dkim,
        "ses": ses,
        "dmarc": {"name": f"_dmarc.{spec.domain}", "value": mail.dmarc.value(), "policy": mail.dmarc.policy,
                  "subdomainPolicy": mail.dmarc.subdomain_policy, "rua": list(mail.dmarc.rua), "ruf": list(mail.dmarc.ruf),
                  "adkim": mail.dmarc.adkim, "aspf": mail.dmarc.aspf, "pct": mail.dmarc.pct,
                  "stagedRollout": mail.dmarc.staged_rollout},
        "mx": mx,
        "mtaSts": None if plan.mta_sts_policy is None else {
            "txtName": f"_mta-sts.{spec.domain}", "txt": f"v=STSv1; id={plan.mta_sts_id}", "id": plan.mta_sts_id,
            "policyUrl": f"https://mta-sts.{spec.domain}/.well-known/mta-sts.txt", "policy": plan.mta_sts_policy,
            "mode": mail.mta_sts.mode, "maxAge": mail.mta_sts.max_age,
            "mx": [line.split(": ", 1)[1] for line in plan.mta_sts_policy.splitlines() if line.startswith("mx: ")]},
        "tlsRpt": None if mail.tls_rpt is None else {
            "name": f"_smtp._tls.{spec.domain}", "value": "v=TLSRPTv1; rua=" + ",".join(mail.tls_rpt.rua),
            "rua": list(mail.tls_rpt.rua)},
        "nonSending": [{"name": n, "mx": f"0 {NULL_MX}", "spf": "v=spf1 -all", "dmarc": "v=DMARC1; p=reject"}
                       for n in mail.non_sending],
    }


def secrets_contract(spec: Spec) -> dict | None:
    if spec.secrets is None:
        return None
    sec = spec.secrets
    return {
        "kmsAlias": "alias/" + (sec.kms.alias or "launchready/{stack}"),
        "kmsRotation": True,
        "tags": [TAG_STACK, TAG_SECRET],
        "items": [{"name": i.name, "secretName": "launchready/{stack}/" + i.name,
                   "source": "config" if i.from_config else "generated", "configKey": i.from_config,
                   "version": i.version, "writeOnly": True,
                   "rotation": _rotation(i.rotation), "tags": rotation_tags(i)}
                  for i in sec.items],
    }


def _rotation(r: Any) -> dict | None:
    if isinstance(r, LambdaRotation):
        return {"type": "lambda", "lambdaArn": r.lambda_arn, "days": r.days}
    if isinstance(r, ManualRotation):
        return {"type": "manual", "maxAgeDays": r.max_age_days, "owner": r.owner}
    return None


def env_contract(spec: Spec) -> dict | None:
    if spec.secrets is None or not spec.secrets.env:
        return None
    keys = {}
    for key, value in sorted(spec.secrets.env.items()):
        if isinstance(value, SecretRef):
            keys[key] = {"type": "SecureString", "secret": value.secret}
        else:
            keys[key] = {"type": "String", "value": value}
    return {"path": "/launchready/{stack}/env", "tags": [TAG_STACK, TAG_ENV], "keys": keys}


def monitoring_contract(spec: Spec) -> dict | None:
    if spec.monitoring is None:
        return None
    mon = spec.monitoring
    checks = mon.checks(spec)
    alarms = [a for c in checks for a in (
        {"check": c.key, "name": c.alarm_name("down"), "metric": "HealthCheckStatus", "statistic": "Minimum",
         "comparison": "<", "threshold": 1},
        {"check": c.key, "name": c.alarm_name("slow"), "metric": "TimeToFirstByte",
         "statistic": mon.latency_statistic, "comparison": ">", "threshold": mon.latency_threshold_ms})]
    return {
        "metricsRegion": METRICS_REGION,
        "topicName": "launchready-{stack}-alerts",
        "latencyThresholdMs": mon.latency_threshold_ms,
        "checks": [{"key": c.key, "url": c.url, "host": c.host, "path": c.path, "flow": c.flow,
                    "referenceName": c.reference_name,
                    "type": "HTTPS", "sni": True, "measureLatency": True} for c in checks],
        "alarms": alarms,
        "alerts": {"email": list(mon.alerts.email), "webhooks": list(mon.alerts.webhooks)},
        # What the monitors cost a month and how much of the account's health-check quota they take.
        "monthly": {"healthChecks": len(checks), "alarms": len(alarms), "quota": mon.health_check_quota,
                    "usd": monthly_usd(len(checks), len(alarms), fast_interval=mon.request_interval == 10),
                    "pricedAsOf": PRICED_AS_OF},
        "cloudflareCertificateAlerts": bool(mon.cloudflare and mon.cloudflare.certificate_events),
    }
