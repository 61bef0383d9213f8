"""A planted canary in every secret-bearing place of a stack file is seen 0 times in every output of
every command (plan, gate, verify) in every format, raw, base64- or URL-encoded."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
CANARIES = {
    "userinfo": "CanaryUserinfoPw7319",
    "token": "CanaryTokenParam4455",
    "access_token": "CanaryAccessTok9917",
    "user_token": "CanaryUserTok2024abcd",
    "db": "CanaryDbPassword8812",
}


@pytest.fixture(scope="module")
def canary_stack(tmp_path_factory) -> Path:
    c = CANARIES
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
    hooks = (f"webhooks: ['https://ops:{c['userinfo']}@hooks.example.com/a', "
             f"'https://hooks.example.com/b?token={c['token']}', "
             f"'https://hooks.example.com/c?page=1&access_token={c['access_token']}', "
             f"'https://{c['user_token']}@alerts.example.com/d']")
    text = text.replace("webhooks: [https://hooks.example.com/launchready/alerts]", hooks, 1)
    text = text.replace("      NODE_ENV: production\n", "      NODE_ENV: production\n"
                        f"      DATABASE_URL: postgres://app:{c['db']}@db.internal:5432/portal\n", 1)  # pragma: allowlist secret
    assert all(v in text for v in c.values())
    path = tmp_path_factory.mktemp("canary") / "Pulumi.canary.yaml"
    path.write_text(text)
    return path


def _forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode(), urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value)]


def _run(*args) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_", "AWS_"))}
    env["COLUMNS"] = "300"
    proc = subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    # the stack is valid: plan runs (0), the gate judges (0/1), verify checks (exit 2: nothing answers)
    assert proc.returncode == {"plan": 0, "gate": proc.returncode if proc.returncode in (0, 1) else 0,
                               "verify": 2}[args[0]], (args, proc.stderr[-2000:])
    return proc.stdout + proc.stderr


def _outputs(stack: Path) -> dict[str, str]:
    """Every output a user can get for the stack: plan (console, JSON) as a subprocess; the gate's and
    verify's reports in every format (the renderers are pure, so one run each feeds them all)."""
    import io

    from rich.console import Console

    from infra.findings.render import RENDERERS
    from infra.findings.render.console import render_console
    from policies.gate import GateOptions, run_gate

    texts = {"plan": _run("plan", "--stack", str(stack)), "plan-json": _run("plan", "--stack", str(stack), "--format", "json")}
    gate = run_gate(GateOptions(stack=str(stack), scan_repo=False))
    assert not gate.errors, gate.errors
    for fmt, render in RENDERERS.items():
        texts[f"gate-{fmt}"] = render(gate)
    buffer = io.StringIO()
    render_console(gate, Console(file=buffer, width=300))
    texts["gate-console"] = buffer.getvalue()
    from infra.spec import load_stack
    from verify.audit import audit
    from verify.expectations import from_spec

    report = audit(from_spec(load_stack(str(stack)), stack="canary"), nameservers=[("127.0.0.1", 9)], timeout=0.2,
                   deadline=3.0, only=["dns-zone-served", "dns-record-present"])
    for fmt, render in RENDERERS.items():
        texts[f"verify-{fmt}"] = render(report)
    buffer = io.StringIO()
    render_console(report, Console(file=buffer, width=300))
    texts["verify-console"] = buffer.getvalue()
    return texts


def test_no_canary_in_any_output(canary_stack):
    leaks = [(where, name, form) for where, text in _outputs(canary_stack).items()
             for name, value in CANARIES.items() for form in _forms(value) if form in text]
    assert leaks == []


def test_a_plaintext_value_in_a_secret_key_is_never_echoed(tmp_path):
    """A secret config key written in plaintext (not `pulumi config set --secret`) is a located error in
    plan and a finding in the gate, and the value appears in neither, in any format."""
    from infra.findings.render import RENDERERS
    from policies.gate import GateOptions, run_gate

    canary = "CanaryPlainSecret5150xyz"
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text().replace(
        "config:\n", f"config:\n  launchready:smtpPassword: {canary}\n  launchready:stripeApiKey: {canary}x\n", 1)
    stack = tmp_path / "Pulumi.plain.yaml"
    stack.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_", "AWS_"))}
    plan = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", str(stack)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    outputs = [plan.stdout + plan.stderr]
    gate = run_gate(GateOptions(stack=str(stack), scan_repo=False))
    outputs += [render(gate) for render in RENDERERS.values()]
    assert "Traceback" not in outputs[0]
    assert not [form for out in outputs for form in _forms(canary) if form in out]
