"""The secrets and monitoring sections: the example, and malformed cases with exact messages.

A plaintext value where a secret is expected must be reported with the file and key, and the value
must appear nowhere: not in the message, not in anything the CLI prints.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stackfiles import problems, spec_error, stack_with

from infra.spec import load_stack

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "PLANTED-plaintext-8f3a91c2-do-not-echo"


def test_example_secrets_and_env():
    spec = load_stack("example", ROOT / "stacks")
    assert [i.name for i in spec.secrets.items] == ["jwt-signing-key", "smtp-password", "stripe-api-key"]
    assert spec.secrets.referenced_config_keys() == {"smtpPassword", "stripeApiKey"}
    assert spec.secrets.plain_env()["COOKIE_SECURE"] == "true"
    assert spec.secrets.secret_env() == {"JWT_SECRET": "jwt-signing-key", "SMTP_PASSWORD": "smtp-password",
                                         "STRIPE_API_KEY": "stripe-api-key"}


def test_plaintext_secret_names_file_and_key_never_the_value(tmp_path):
    path = stack_with(tmp_path, lambda c: c.update({"launchready:smtpPassword": PLANTED}))
    err = spec_error(path)
    (issue,) = err.issues
    assert issue.path == "launchready:smtpPassword"
    assert issue.message == ("is plaintext in the stack file, but secrets.items[1] (smtp-password) needs a secret: "
                             "remove it and run `pulumi config set --secret smtpPassword` (value not shown)")
    assert issue.file == str(path) and issue.line is not None
    text = str(err)
    assert str(path) in text and "launchready:smtpPassword" in text
    assert PLANTED not in text and PLANTED[:12] not in text


def test_plaintext_secret_through_the_cli_prints_no_value(tmp_path):
    path = stack_with(tmp_path, lambda c: c.update({"launchready:smtpPassword": PLANTED}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_", "AWS_"))}
    for args in (["plan", "--stack", str(path)], ["plan", "--stack", str(path), "--json"]):
        proc = subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0
        assert "launchready:smtpPassword" in proc.stderr
        assert PLANTED not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr


def test_plain_env_value_under_a_secret_name_is_not_echoed(tmp_path):
    def edit(c):
        c["launchready:secrets"]["env"]["DB_PASSWORD"] = PLANTED
    err = spec_error(stack_with(tmp_path, edit))
    assert [f"{i.path}: {i.message}" for i in err.issues] == [
        "secrets.env.DB_PASSWORD: looks like a secret but has a plain value: declare it under secrets.items "
        "and write {secret: <name>} (value not shown)"]
    assert PLANTED not in str(err)


def test_a_secret_value_inside_the_section_is_an_unknown_key_not_echoed(tmp_path):
    def edit(c):
        c["launchready:secrets"]["items"][1]["value"] = PLANTED
    err = spec_error(stack_with(tmp_path, edit))
    assert "secrets.items[1].value: unknown key" in str(err)
    assert PLANTED not in str(err)


CASES = {
    "both sources": (
        lambda c: c["launchready:secrets"]["items"][0].update(fromConfig="smtpPassword"),
        "secrets.items[0]: give exactly one of fromConfig (a secret config key) or generate",
    ),
    "env references an undeclared secret": (
        lambda c: c["launchready:secrets"]["env"].update(SESSION_SECRET={"secret": "session-key"}),
        "secrets.env.SESSION_SECRET.secret: 'session-key' is not among secrets.items",
    ),
    "duplicate secret": (
        lambda c: c["launchready:secrets"]["items"].append({"name": "jwt-signing-key", "generate": {}}),
        "secrets.items[3].name: 'jwt-signing-key' is declared twice (first at secrets.items[0])",
    ),
    "monitoring host not among hosts": (
        lambda c: c["launchready:monitoring"].update(hosts=["status.example.com"]),
        "monitoring.hosts[0]: 'status.example.com' is not among hosts",
    ),
    "monitoring flow unknown": (
        lambda c: c["launchready:monitoring"].update(flows=["login", "checkout"]),
        "monitoring.flows[1]: 'checkout' is not a flow of any host (known: dashboard, health, home, invite, login, reset, token)",
    ),
    "alerts reach nobody": (
        lambda c: c["launchready:monitoring"].update(alerts={"email": []}),
        "monitoring.alerts: needs at least one email or webhook: an alert nobody receives is no alert",
    ),
    "webhook over http": (
        lambda c: c["launchready:monitoring"]["alerts"].update(webhooks=["http://hooks.example.com/x"]),
        "monitoring.alerts.webhooks[0]: 'http://hooks.example.com/x' is not an https:// URL (SNS delivers webhooks over HTTPS only here)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_secrets_and_monitoring(tmp_path, case):
    edit, message = CASES[case]
    assert message in problems(stack_with(tmp_path, edit))


def test_monitor_checks_cover_every_host_and_chosen_flow():
    spec = load_stack("example", ROOT / "stacks")
    checks = {c.key: c.url for c in spec.monitoring.checks(spec)}
    for host in spec.hosts:
        assert f"host-{host.name}" in checks
    assert checks["host-api.example.com"] == "https://api.example.com/v1/health"
    assert checks["flow-app.example.com-reset"] == "https://app.example.com/password/reset"
    assert "flow-app.example.com-invite" not in checks  # not GET-able: left out in the example
    assert "flow-example.com-home" not in checks        # same URL as the host check


# -- rotation: a Lambda, or a person within a maximum age (issue 12) ---------------------------------

def test_example_rotations_are_lambda_or_manual():
    from infra.spec.secretspec import LambdaRotation, ManualRotation, rotation_tags

    spec = load_stack("example", ROOT / "stacks")
    jwt, smtp, stripe = spec.secrets.items
    assert isinstance(smtp.rotation, LambdaRotation) and smtp.rotation.days == 90
    assert isinstance(stripe.rotation, ManualRotation)
    assert (stripe.rotation.max_age_days, stripe.rotation.owner) == (365, "billing@example.com")
    assert rotation_tags(stripe) == {"launchready:rotation": "manual", "launchready:max-age-days": "365",
                                     "launchready:owner": "billing@example.com"}
    assert rotation_tags(smtp) == {}
    assert isinstance(jwt.rotation, ManualRotation)


@pytest.mark.parametrize("rotation, expected", [
    ({"manual": True, "owner": "billing"}, [("secrets.items[2].rotation.maxAgeDays", "is required but missing")]),
    ({"manual": True, "maxAgeDays": 30}, [("secrets.items[2].rotation.owner", "is required but missing")]),
    ({"manual": True, "maxAgeDays": 30, "owner": "x", "lambdaArn": "arn"},
     [("secrets.items[2].rotation.lambdaArn", "unknown key")]),
    ({"days": 30}, [("secrets.items[2].rotation.lambdaArn", "is required but missing")]),
])
def test_rotation_errors_name_the_field(tmp_path, rotation, expected):
    def edit(c):
        c["launchready:secrets"]["items"][2]["rotation"] = rotation
    err = spec_error(stack_with(tmp_path, edit))
    assert [(i.path, i.message) for i in err.issues] == expected
