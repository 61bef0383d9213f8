"""The launch program: the spec in, the components out. `infra/__main__.py` calls main()."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.components.dnsrecords import DnsRecords, Dnssec
from infra.components.mailauth import MailAuth
from infra.components.monitors import Monitors
from infra.components.rulesets import EdgeRules
from infra.components.secretstore import EnvContract, SecretStore
from infra.components.tlspolicy import TenantCertificates, TlsSettings
from infra.components.zone import Zone
from infra.contract import build_contract
from infra.spec import Spec, planned_records, spec_from_pulumi
from infra.spec.adoptspec import adopted_records


@dataclass
class Launch:
    """What build() created, for tests and for the sections that hang off the edge."""

    spec: Spec
    zone: Zone
    dns: DnsRecords
    exports: dict[str, Any] = field(default_factory=dict)


def build(spec: Spec) -> Launch:
    zone = Zone("zone", spec)
    records = planned_records(spec)
    dns = DnsRecords("dns", zone.zone_id, records, adopt=adopted_records(spec.zone, records))
    launch = Launch(spec, zone, dns)
    TlsSettings("tls", zone.zone_id, spec.tls)
    if any(g.needs_certificate(spec.domain) for g in spec.tenant_groups):
        TenantCertificates("tenant-certs", zone.zone_id, spec.tenant_groups, spec.domain)
    EdgeRules("edge", zone.zone_id, spec)
    launch.exports["zoneId"] = zone.zone_id
    # verify checks NS delegation against these (empty for a zone given by id).
    launch.exports["nameServers"] = zone.name_servers
    if spec.dnssec:
        launch.exports["dnssecDs"] = Dnssec("dnssec", zone.zone_id).ds
    # -- the mail, secrets and monitoring sections hang off the edge --
    _build_mail_secrets_monitoring(spec, launch)
    launch.exports["launchContract"] = build_contract(spec)
    return launch


def _build_mail_secrets_monitoring(spec: Spec, launch: Launch) -> None:
    """Mail authentication beyond static records, secret stores, env contract, monitors."""
    stack = pulumi.get_stack()
    if spec.mail is not None:
        mail = MailAuth("mail", spec, launch.zone.zone_id, stack)
        if mail.ses:
            launch.exports["sesDkimTokens"] = mail.ses_dkim_tokens
        if mail.mta_sts is not None:
            launch.exports["mtaStsPolicyUrl"] = mail.mta_sts.url
    if spec.secrets is not None:
        store = SecretStore("secrets", spec.secrets, stack) if spec.secrets.items else None
        if store is not None:
            # ARNs and names only: values never leave the component.
            launch.exports["secretArns"] = store.secret_arns
        if spec.secrets.env:
            launch.exports["envPath"] = EnvContract("env", spec.secrets, stack, store).path
    if spec.monitoring is not None:
        monitors = Monitors("monitors", spec, launch.zone.zone_id, stack)
        launch.exports["alertTopicArn"] = monitors.topic_arn
        launch.exports["healthCheckIds"] = monitors.health_check_ids


def main(spec: Spec | None = None) -> Launch:
    """Declare everything for the spec, export the contract. The spec is read from the stack's
    config unless the caller already holds it (built from the same config, e.g. by the CLI)."""
    launch = build(spec if spec is not None else spec_from_pulumi())
    for name, value in launch.exports.items():
        pulumi.export(name, value)
    return launch
