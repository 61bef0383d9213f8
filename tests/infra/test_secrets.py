"""Secrets and the env contract under mocks: values reach AWS only as secrets, through write-only inputs.

A recognisable value is planted through the stack's (secret) config, as `pulumi config set --secret`
would; every recorded resource input and output, the stack outputs and the rendered plan are then
searched for it.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from infra.mockrun import run_program
from infra.planview import render_console, render_json
from infra.spec import read_stack_file

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "PLANTED-smtp-secret-7c1e44b9"
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
PARAM = "aws:ssm/parameter:Parameter"
KEY = "aws:kms/key:Key"


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        # Still wrapped as a secret (the mock echoes inputs back as outputs): report the path as secret.
        yield path, "[secret]"
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value


@pytest.fixture(scope="module")
def planted_run():
    source = read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml")
    # The example sets no secret value; plant one as `pulumi config set --secret` would.
    assert "launchready:smtpPassword" not in source.values
    source.values["launchready:smtpPassword"] = PLANTED
    source.secret_keys.add("launchready:smtpPassword")
    return run_program(source, stack="planted")


def test_planted_secret_reaches_aws_only_as_a_secret(planted_run, capsys):
    reached = []
    for res in planted_run.resources:
        for where in (res.inputs, res.outputs):
            for path, value in walk(where):
                if isinstance(value, str) and PLANTED in value:
                    assert path in res.secret_paths, f"{res.type} {res.name}: {path} carries the secret in plaintext"
                    reached.append((res.type, path))
        assert PLANTED not in json.dumps(res.masked_inputs(), default=str)
    # Not vacuous: the value is delivered, and only through the write-only inputs.
    assert set(reached) == {(VERSION, "secretStringWo"), (PARAM, "valueWo")}
    assert PLANTED not in json.dumps(planted_run.outputs, default=str)
    buffer = io.StringIO()
    render_console(planted_run, Console(file=buffer, width=200))
    assert PLANTED not in buffer.getvalue() and PLANTED not in render_json(planted_run)
    out, err = capsys.readouterr()
    assert PLANTED not in out + err


def test_generated_secrets_are_secret_too(planted_run):
    for res in planted_run.of_type(VERSION) + planted_run.of_type(PARAM):
        for path, value in walk(res.inputs):
            if isinstance(value, str) and value.startswith("mock-generated-"):
                assert path in res.secret_paths


def test_values_use_write_only_attributes(example_run):
    for version in example_run.of_type(VERSION):
        assert "secretString" not in version.inputs and "secretStringWo" in version.inputs
        assert version.inputs["secretStringWoVersion"] >= 1
    secure = [p for p in example_run.of_type(PARAM) if p.inputs["type"] == "SecureString"]
    assert {p.inputs["name"] for p in secure} == {
        "/launchready/example/env/JWT_SECRET", "/launchready/example/env/SMTP_PASSWORD",
        "/launchready/example/env/STRIPE_API_KEY"}
    for p in secure:
        assert "value" not in p.inputs and "valueWo" in p.inputs and p.inputs["keyId"].startswith("arn:aws:kms:")


def test_secrets_encrypted_with_a_rotating_customer_key_and_tagged(example_run):
    keys = {k.urn: k for k in example_run.of_type(KEY)}
    assert all(k.inputs["enableKeyRotation"] is True for k in keys.values())
    key_arns = {k.outputs["arn"] for k in keys.values()}
    secrets = example_run.of_type(SECRET)
    assert {s.inputs["name"] for s in secrets} == {
        "launchready/example/jwt-signing-key", "launchready/example/smtp-password", "launchready/example/stripe-api-key"}
    for s in secrets:
        assert s.inputs["kmsKeyId"] in key_arns
        assert s.inputs["tags"]["launchready:stack"] == "example"
        assert s.inputs["tags"]["launchready:secret"] == s.inputs["name"].rsplit("/", 1)[1]


def test_rotation_where_the_spec_names_a_function(example_run):
    (rotation,) = example_run.of_type(ROTATION)
    assert rotation.inputs["rotationLambdaArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:rotate-ses-smtp"
    assert rotation.inputs["rotationRules"]["automaticallyAfterDays"] == 90
    (smtp,) = [s for s in example_run.of_type(SECRET) if s.inputs["name"].endswith("/smtp-password")]
    assert rotation.inputs["secretId"] == smtp.id


def test_manual_rotation_is_tagged_on_the_secret(example_run):
    (stripe,) = [s for s in example_run.of_type(SECRET) if s.inputs["name"].endswith("/stripe-api-key")]
    assert {k: v for k, v in stripe.inputs["tags"].items() if k not in ("launchready:stack", "launchready:secret")} == {
        "launchready:rotation": "manual", "launchready:max-age-days": "365", "launchready:owner": "billing@example.com"}
    (smtp,) = [s for s in example_run.of_type(SECRET) if s.inputs["name"].endswith("/smtp-password")]
    assert "launchready:rotation" not in smtp.inputs["tags"]


def test_generated_secret_uses_pulumi_random(example_run):
    (pw,) = example_run.of_type("random:index/randomPassword:RandomPassword")
    assert pw.inputs["length"] == 64 and pw.inputs["special"] is False


def test_env_contract_in_one_path(example_run):
    params = {p.inputs["name"]: p.inputs for p in example_run.of_type(PARAM)}
    assert all(name.startswith("/launchready/example/env/") for name in params)
    assert {n.rsplit("/", 1)[1] for n in params} == {
        "NODE_ENV", "APP_URL", "API_URL", "COOKIE_SECURE", "MAIL_FROM", "SMTP_HOST",
        "JWT_SECRET", "SMTP_PASSWORD", "STRIPE_API_KEY"}
    assert params["/launchready/example/env/NODE_ENV"]["type"] == "String"
    assert params["/launchready/example/env/NODE_ENV"]["insecureValue"] == "production"
    assert params["/launchready/example/env/COOKIE_SECURE"]["insecureValue"] == "true"
    contract = example_run.outputs["launchContract"]
    assert contract["env"]["keys"]["JWT_SECRET"] == {"type": "SecureString", "secret": "jwt-signing-key"}
    assert contract["env"]["keys"]["APP_URL"] == {"type": "String", "value": "https://app.example.com"}
    assert [i["name"] for i in contract["secrets"]["items"]] == ["jwt-signing-key", "smtp-password", "stripe-api-key"]
    assert example_run.outputs["envPath"] == "/launchready/example/env"
