"""Values a newcomer copied from the example and must replace before `pulumi up`.

A plan of the example stack is valid on purpose, so nothing here is an error: these are notes the
plan prints under "before you apply". They are found in what the program would create (the mock
run's resource inputs and the launch contract), from the values reserved for documentation:
RFC 5737 / RFC 3849 addresses, RFC 2606 domains, AWS's documentation account 123456789012, and the
example's fake keys and ids. What counts as such a value is infra/knowledge/placeholders.py's, which
the gate's rule `example-values-replaced` shares: there the same values block a production stack
(other than the shipped `example` itself). Secret config keys the stack file does not set yet (the example sets
none: secret values come from `pulumi config set --secret`) are advisories here too.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infra.knowledge.placeholders import (
    DOC_ACCOUNT,
    address_host,
    dkim_key_is_fake,
    is_doc_account_function,
    is_doc_ip,
    is_fake_account_id,
    reserved_domain,
)
from infra.mockrun import PlanRun
from infra.spec import ConfigSource, Spec
from infra.spec.redact import redact
from infra.spec.secretinputs import SECRET_UNSET, unset_secret_inputs


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def placeholder_notes(run: PlanRun) -> list[str]:
    contract = run.outputs.get("launchContract") or {}
    notes: list[str] = []
    domain = contract.get("domain", "")
    if reserved_domain(domain):
        notes.append(f"domain {domain} is reserved for documentation (RFC 2606): set launchready:domain to yours")
    ips = sorted({r["content"] for r in contract.get("records", []) if r.get("type") in ("A", "AAAA")
                  and is_doc_ip(r.get("content", ""))})
    if ips:
        notes.append(f"origins {', '.join(ips)} are documentation addresses (RFC 5737/3849): set hosts[].origin to your servers")
    mail = contract.get("mail") or {}
    fake = sorted({d["name"] for d in mail.get("dkim", []) if d.get("type") == "TXT" and dkim_key_is_fake(d.get("content", ""))})
    if fake:
        notes.append(f"DKIM keys at {', '.join(fake)} are not real public keys: paste the values your mail provider's console shows")
    accounts = sorted({s for r in run.resources for k, v in r.inputs.items() if k == "accountId"
                       for s in _strings(v) if is_fake_account_id(s)})
    if accounts:
        notes.append(f"Cloudflare account id {', '.join(accounts)} is a placeholder: set zone.accountId to your account")
    arns = sorted({s for r in run.resources for s in _strings(r.masked_inputs())
                   if is_doc_account_function(s)})
    if arns:
        notes.append(f"{', '.join(arns)} is in AWS's documentation account {DOC_ACCOUNT}: point rotation at your Lambda")
    alerts = (contract.get("monitoring") or {}).get("alerts") or {}
    reserved = [a for a in alerts.get("email", []) + alerts.get("webhooks", [])
                if reserved_domain(address_host(a))]
    if reserved:  # named even when the domain note covers it: an alert nobody reads is an outage nobody sees
        shown = ", ".join(redact(a) for a in reserved)  # a webhook URL may carry its credential
        notes.append(f"alerts go to {shown}, which nobody reads: set monitoring.alerts to a real inbox or webhook")
    return notes


def placeholder_advisories(run: PlanRun, file: str | None = None) -> list:
    """The notes as plan advisories: findings of the one model (WARN, area plan)."""
    from infra.findings import Finding, Location, Status

    return [Finding(id="example-value", status=Status.WARN, area="plan", severity="low", message=note,
                    location=Location(file=file)) for note in placeholder_notes(run)]


def secret_advisories(source: ConfigSource, spec: Spec, stack: str | None = None) -> list:
    """Secret config keys the stack file does not set yet, as plan advisories (WARN, area secrets):
    each key once, with the command that sets it; never a value (there is none to show)."""
    from infra.findings import Finding, Location, Status

    return [Finding(id=SECRET_UNSET, status=Status.WARN, area="secrets", severity="medium",
                    message=s.unset_message(stack), remediation=s.command(stack),
                    evidence={"key": s.key}, location=Location(file=source.file, line=source.line_of(s.path) if s.path else None))
            for s in unset_secret_inputs(source, spec)]
