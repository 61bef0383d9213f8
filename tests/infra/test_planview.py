"""The plan as a newcomer reads it: launch order, the zone, mock-only values named, example values flagged."""
from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from infra.placeholders import placeholder_advisories, placeholder_notes
from infra.planview import grouped, render_console, render_json

pytestmark = pytest.mark.unit


def test_groups_follow_the_launch_order(example_run):
    titles = [label.rsplit(" (", 1)[0] for label in grouped(example_run)]
    assert titles == ["DNS records", "DNSSEC", "TLS", "Edge rules: redirects, WAF, rate limits, cache, headers",
                      "Mail authentication: SES identity, MTA-STS policy", "Secret store (Secrets Manager, KMS)",
                      "Production env contract (SSM)", "Monitors: health checks, alarms, alert routing"]


def test_console_names_the_zone_mock_tokens_and_example_values(example_run):
    buffer = io.StringIO()
    render_console(example_run, Console(file=buffer, width=240), placeholder_advisories(example_run))
    text = buffer.getvalue()
    assert "zone example.com: existing, looked up in Cloudflare at deploy time (not created)" in text
    assert "CNAME <token>._domainkey.example.com → <token>.dkim.amazonses.com" in text
    assert "Before you apply" in text
    assert "origins 203.0.113.10, 203.0.113.20 are documentation addresses" in text
    assert "DKIM keys at google._domainkey.example.com are not real public keys" in text


def test_json_carries_the_notes(example_run):
    doc = json.loads(render_json(example_run, placeholder_advisories(example_run)))
    assert doc["zone"].startswith("zone example.com: existing")
    assert any("0123456789abcdef0123456789abcdef" in n for n in doc["beforeApply"])


def test_no_notes_for_real_looking_values(run_with):
    def edit(c):
        c["launchready:domain"] = "portal.acme-corp.io"
        c["launchready:zone"] = {"name": "portal.acme-corp.io", "accountId": "9f3c1a7be0d24c6e8b5a0f1d2c3e4b5a"}
        for h in c["launchready:hosts"]:
            h["name"] = h["name"].replace("example.com", "portal.acme-corp.io")
            h["origin"] = {"203.0.113.10": "52.30.1.10", "203.0.113.20": "52.30.1.20"}.get(h["origin"], h["origin"])
        for rl in c["launchready:rateLimits"]:
            rl["hosts"] = [x.replace("example.com", "portal.acme-corp.io") for x in rl.get("hosts", [])] or rl.pop("hosts", None) or []
        for r in c["launchready:redirects"]:
            for k in ("to", "host"):
                if k in r:
                    r[k] = r[k].replace("example.com", "portal.acme-corp.io")
        del c["launchready:mail"], c["launchready:monitoring"]
        c["launchready:secrets"]["items"][1].pop("rotation")
    assert placeholder_notes(run_with(edit)) == []
