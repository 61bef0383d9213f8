"""One entry point used by the CLI, the tests and the benchmark."""
from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from infra.findings import RuleInfo

from . import engine
from .awsclient import AwsClients
from .context import Context, PolicyFetcher
from .dnsclient import DnsClient
from .expectations import Expectations
from .fetch import HttpsPolicyFetcher
from .model import Report
from .probes.mailprobes import clear_checkdmarc_cache
from .rootcause import mark_root_causes
from .webclient import WebClient


def audit(exp: Expectations, *, nameservers: Sequence[tuple[str, int]] = (), timeout: float = 3.0,
          deadline: float = 60.0, only: Iterable[str] = (), skip: Iterable[str] = (),
          fetcher: PolicyFetcher | None = None, ca_file: str | None = None,
          ssl_context: ssl.SSLContext | None = None, connect_to: dict | None = None, events: engine.RunEvents | None = None,
          workers: int = 16, samples: int = 20, concurrency: int = 4, browser: str | None = None,
          active: bool = False, aws: AwsClients | None = None, fire_drill: bool = False,
          tenant_concurrency: int = 16) -> Report:
    checks = engine.select(engine.load_all(), only, skip)
    client = DnsClient(nameservers, timeout=timeout)
    if ssl_context is None and ca_file:
        # the CLI loads --ca-file itself (bad input, exit 2); callers may give a path instead
        ssl_context = ssl.create_default_context(cafile=ca_file)
    pins = dict(connect_to or {})
    if fetcher is None:
        fetcher = HttpsPolicyFetcher(client, timeout=timeout, ssl_context=ssl_context or ssl.create_default_context(),
                                     connect_to=pins)
    web = WebClient(client, timeout=timeout, ssl_context=ssl_context, connect_to=pins)
    ctx = Context(dns=client, fetcher=fetcher, timeout=timeout, web=web, samples=samples, concurrency=concurrency,
                  browser=browser, portal=exp.portal, active=active, aws=aws or AwsClients(timeout=timeout),
                  tenant_concurrency=tenant_concurrency, deadline_at=time.monotonic() + deadline)
    if fire_drill and exp.aws is not None:
        exp = replace(exp, aws=replace(exp.aws, fire_drill=True))
    clear_checkdmarc_cache()  # checkdmarc caches by name only, whatever the nameserver
    # A probe may make several sequential queries (SPF includes); give it room beyond one query.
    probe_timeout = max(timeout * 4, timeout + 1.0)
    opts = engine.RunOptions(probe_timeout=probe_timeout, deadline=deadline, workers=workers)
    report = engine.run(checks, ctx, exp, opts, events, stack=exp.stack, domain=exp.domain,
                        nameservers=client.describe())
    # The catalogue of what ran, so JUnit and SARIF list every selected check, passed or not.
    rules = tuple(RuleInfo(id=c.id, area=c.group, title=c.title, remediation=c.remediation) for c in checks)
    return mark_root_causes(replace(report, rules=rules), exp.domain)
