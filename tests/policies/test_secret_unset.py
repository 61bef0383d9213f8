"""Secret values are never in the example: plan and gate name each unset secret key once, with the
command that sets it, and never a value; a stack with its secrets set reports none."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from stackfiles import own_values

from infra.cli import main as launchready
from infra.findings import Status
from infra.findings.render import render_json, render_text
from infra.spec import read_stack_file
from infra.spec.stackfile import MOCK_SECRET
from policies.gate import GateOptions, run_gate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"
KEYS = ["cloudflare:apiToken", "launchready:smtpPassword", "launchready:stripeApiKey"]
CIPHERTEXT = "v1:c2V0LWJ5LXRoZS1jbGktNzc0MQ=="  # what `pulumi config set --secret` would write; never decrypted


def copy_of_example(tmp_path: Path, name: str = "mine", secure: tuple[str, ...] = ()) -> Path:
    """The example copied as Pulumi.<name>.yaml, with a `secure:` value for each key in `secure` and
    values of its own (a production copy that keeps the example's is blocked: example-values-replaced)."""
    entries = "".join(f"  {key}:\n    secure: {CIPHERTEXT}\n" for key in secure)
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(own_values(EXAMPLE.read_text()).replace("\nconfig:\n", "\nconfig:\n" + entries, 1))
    return path


def plan_json(path: Path, capsys) -> tuple[dict, str]:
    assert launchready(["plan", "--stack", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out), out


def gate(path: Path):
    return run_gate(GateOptions(stack=str(path), root=str(ROOT), scan_repo=False))


@pytest.mark.parametrize("stack", sorted((ROOT / "stacks").glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_shipped_stacks_carry_no_secure_value(stack):
    # The engine decrypts every `secure:` value before running: a fake one stops `pulumi preview`.
    assert "secure:" not in "\n".join(line.split("#", 1)[0] for line in stack.read_text().splitlines())
    data = yaml.safe_load(stack.read_text())
    assert not [k for k, v in data["config"].items() if isinstance(v, dict) and "secure" in v]
    assert read_stack_file(stack).secret_keys == set()


def test_plan_of_a_copied_example_names_each_unset_secret_once(tmp_path, capsys):
    path = copy_of_example(tmp_path)
    doc, out = plan_json(path, capsys)
    unset = [a for a in doc["advisories"] if a["id"] == "secret-unset"]
    assert sorted(a["evidence"]["key"] for a in unset) == KEYS
    for a in unset:
        key = a["evidence"]["key"]
        assert a["status"] == "WARN" and a["area"] == "secrets"
        assert f"`pulumi config set --secret {key} --stack mine`" in a["message"]
        assert a["remediation"] == f"pulumi config set --secret {key} --stack mine"
    # Each points at the item that reads the key (the provider token at no particular line).
    lines = path.read_text().splitlines()
    located = {a["evidence"]["key"]: a["location"].get("line") for a in unset}
    assert lines[located["launchready:smtpPassword"] - 1].strip() == "fromConfig: smtpPassword"
    assert lines[located["launchready:stripeApiKey"] - 1].strip() == "fromConfig: stripeApiKey"
    # The program still ran, with a placeholder that is never shown.
    assert doc["resourceCount"] > 20 and MOCK_SECRET not in out


def test_plan_console_lists_them_before_apply(tmp_path, capsys):
    assert launchready(["plan", "--stack", str(copy_of_example(tmp_path))]) == 0
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    for key in KEYS:
        assert out.count(f"pulumi config set --secret {key} --stack mine") == 1
    assert MOCK_SECRET not in out


def test_gate_of_a_copied_example_warns_for_each_unset_secret(tmp_path):
    result = gate(copy_of_example(tmp_path))
    assert result.errors == () and result.exit_code == 0
    unset = [f for f in result.findings if f.id == "secret-unset"]
    assert sorted(re.match(r"(\S+) is not set", f.message).group(1) for f in unset) == KEYS
    for f in unset:
        assert (f.status, f.level) == (Status.WARN, "advisory")
        key = f.message.split()[0]
        assert f"`pulumi config set --secret {key} --stack mine`" in f.message
    assert [f.id for f in result.of(Status.FAIL)] == []
    for text in (render_text(result), render_json(result)):
        assert MOCK_SECRET not in text


def test_production_keeps_it_advisory():
    from policies.engine import reconcile_config
    from policies.rules import ALL, initial_config
    from policies.scan import GATE_CHECKS

    for environment in ("production", "staging"):
        levels = reconcile_config(list(ALL) + list(GATE_CHECKS), None, initial=initial_config(environment)).levels
        assert levels["secret-unset"].value == "advisory"


def test_secrets_set_report_nothing_unset(tmp_path, capsys):
    path = copy_of_example(tmp_path, "set", secure=tuple(KEYS))
    doc, out = plan_json(path, capsys)
    assert [a for a in doc["advisories"] if a["id"] == "secret-unset"] == []
    result = gate(path)
    assert [f for f in result.findings if f.id == "secret-unset"] == [] and result.exit_code == 0
    for text in (out, render_text(result), render_json(result)):
        assert CIPHERTEXT not in text and MOCK_SECRET not in text


def test_only_the_unset_key_is_reported(tmp_path, capsys):
    path = copy_of_example(tmp_path, "partly", secure=("cloudflare:apiToken", "launchready:smtpPassword"))
    doc, _ = plan_json(path, capsys)
    assert [a["evidence"]["key"] for a in doc["advisories"] if a["id"] == "secret-unset"] == ["launchready:stripeApiKey"]
    result = gate(path)
    assert [f.message.split()[0] for f in result.findings if f.id == "secret-unset"] == ["launchready:stripeApiKey"]


def test_gate_level_can_be_disabled(tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"secret-unset": "disabled"}))
    result = run_gate(GateOptions(stack=str(copy_of_example(tmp_path)), root=str(ROOT), scan_repo=False,
                                  policy_config=str(config)))
    assert [f for f in result.findings if f.id == "secret-unset"] == []
