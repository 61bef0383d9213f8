"""Credentials that ride inside ordinary values (URL userinfo, webhook tokens) never reach the plan
or a spec error, in console or JSON form."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.spec.redact import redact

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DB_PASSWORD = "CanaryDbPw7319"
HOOK_TOKEN = "CanaryHookToken4455xyz"


def launchready(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_", "AWS_"))}
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def leaky_stack(tmp_path) -> Path:
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
    text = text.replace("      NODE_ENV: production\n",
                        f"      NODE_ENV: production\n      DATABASE_URL: postgres://app:{DB_PASSWORD}@db.internal:5432/portal\n", 1)  # pragma: allowlist secret
    text = text.replace("webhooks: [https://hooks.example.com/launchready/alerts]",
                        f"webhooks: [https://hooks.slack.com/services/T0001/B0001/{HOOK_TOKEN}]", 1)
    assert DB_PASSWORD in text and HOOK_TOKEN in text
    path = tmp_path / "Pulumi.leaky.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", [(), ("--json",)])
def test_plan_hides_credentials_inside_values(leaky_stack, fmt):
    proc = launchready("plan", "--stack", str(leaky_stack), *fmt)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert DB_PASSWORD not in out and HOOK_TOKEN not in out
    assert "postgres://app:[secret]@db.internal:5432/portal" in out
    assert "https://hooks.slack.com/[secret]" in out


def test_spec_error_does_not_echo_a_credential_in_a_url(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text().replace(
        "webhooks: [https://hooks.example.com/launchready/alerts]",
        f"webhooks: [http://ops:{DB_PASSWORD}@hooks.example.com/alerts]", 1)  # pragma: allowlist secret
    path = tmp_path / "Pulumi.badhook.yaml"
    path.write_text(text)
    proc = launchready("plan", "--stack", str(path))
    assert proc.returncode == 2
    assert DB_PASSWORD not in proc.stderr
    assert "'http://ops:[secret]@hooks.example.com/alerts' is not an https:// URL" in proc.stderr


@pytest.mark.parametrize("text, shown", [
    ("https://app.example.com/password/reset?next=/dashboard", "https://app.example.com/password/reset?next=/dashboard"),
    ("https://api.example.com/v1/auth/token", "https://api.example.com/v1/auth/token"),
    ("mailto:dmarc@example.com", "mailto:dmarc@example.com"),
    ("https://x.example.net/cb?token=abc&y=2", "https://x.example.net/cb?token=[secret]&y=2"),
    ("https://hooks.example.com/a1b2c3d4e5f6a7b8", "https://hooks.example.com/[secret]"),
])
def test_redact_keeps_ordinary_urls_and_hides_capabilities(text, shown):
    assert redact(text) == shown
