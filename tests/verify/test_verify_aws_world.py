"""verify's AWS checks against moto on 127.0.0.1, seeded from the example stack as the program creates
it (tests/worldkit/awsworld.py): all PASS; each misconfiguration FAILs exactly its check; a denying or
unreachable endpoint is ERROR, never a verdict. Dummy credentials, endpoints on loopback only.
"""
from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path

import pytest

from infra.findings import Status
from infra.spec import load_stack
from verify.audit import audit
from verify.expectations import from_spec

pytestmark = pytest.mark.world

ROOT = Path(__file__).resolve().parents[2]
STACK = "example"
# The seeded world has no live data: the drill is opt-in and gets its own test.
DRILL = "alarm-fire-drill"


@pytest.fixture(scope="module")
def spec():
    return load_stack(STACK, ROOT / "stacks")


@pytest.fixture(scope="module")
def moto_world(spec):
    pytest.importorskip("moto.server")
    from worldkit import awsworld

    world = awsworld.start(STACK, spec)
    yield world
    world.stop()


@pytest.fixture
def world(moto_world, monkeypatch):
    from worldkit import awsworld

    moto_world.reset()
    awsworld.seed(moto_world)
    for k, v in moto_world.env.items():
        monkeypatch.setenv(k, v)
    return moto_world


def _audit(spec, **kw):
    kw.setdefault("only", ["aws"])
    kw.setdefault("timeout", 2.0)
    return audit(from_spec(spec, stack=STACK), deadline=30.0, **kw)


def _by_status(rep, status):
    return {f.id for f in rep.findings if f.status is status}


def test_the_seeded_world_passes(world, spec):
    rep = _audit(spec)
    bad = [(f.id, f.status.value, f.target, f.message) for f in rep.findings
           if f.status is not Status.PASS and f.id != DRILL]
    assert bad == []
    ids = {f.id for f in rep.findings}
    assert {"aws-secret-exists", "aws-secret-kms", "aws-secret-rotation", "aws-env-key", "aws-env-value",
            "aws-env-production", "aws-health-check", "aws-alarm", "aws-alert-topic", "aws-root-mfa",
            "aws-root-access-keys"} <= ids
    assert _by_status(rep, Status.SKIPPED) == {DRILL}


def _secret(world, item):
    return f"launchready/{world.stack}/{item}"


def _param(world, key):
    return f"/launchready/{world.stack}/env/{key}"


def _alarm_without_actions(world):
    from worldkit.awsworld import put_alarm

    alarm = world.contract["monitoring"]["alarms"][0]
    put_alarm(world.client("cloudwatch", "us-east-1"), alarm, world.ids[alarm["check"]], None)


def _unsubscribe_all(world):
    sns = world.client("sns", "us-east-1")
    for s in sns.list_subscriptions()["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"])


def _delete_health_check(world):
    key = next(k for k in world.ids if k.startswith("host-www."))
    world.client("route53").delete_health_check(HealthCheckId=world.ids[key])


def _root_mfa_off(world):
    from worldkit.awsworld import set_root_mfa

    set_root_mfa(False)


VARIANTS = {
    "aws-managed-key": (lambda w: w.client("secretsmanager").update_secret(
        SecretId=_secret(w, "stripe-api-key"), KmsKeyId="alias/aws/secretsmanager"), "aws-secret-kms"),
    "rotation-off": (lambda w: w.client("secretsmanager").cancel_rotate_secret(
        SecretId=_secret(w, "smtp-password")), "aws-secret-rotation"),
    "missing-env-key": (lambda w: w.client("ssm").delete_parameter(Name=_param(w, "MAIL_FROM")), "aws-env-key"),
    "node-env-development": (lambda w: w.client("ssm").put_parameter(
        Name=_param(w, "NODE_ENV"), Value="development", Type="String", Overwrite=True), "aws-env-production"),
    "smtp-host-changed": (lambda w: w.client("ssm").put_parameter(
        Name=_param(w, "SMTP_HOST"), Value="smtp.elsewhere.test", Type="String", Overwrite=True), "aws-env-value"),
    "secret-as-string": (lambda w: w.client("ssm").put_parameter(
        Name=_param(w, "JWT_SECRET"), Value="world-plain", Type="String", Overwrite=True), "aws-env-key"),
    "alarm-without-actions": (_alarm_without_actions, "aws-alarm"),
    "topic-without-subscriptions": (_unsubscribe_all, "aws-alert-topic"),
    "host-without-health-check": (_delete_health_check, "aws-health-check"),
    "root-mfa-off": (_root_mfa_off, "aws-root-mfa"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_misconfiguration_fails_exactly_its_check(world, spec, name):
    change, expected = VARIANTS[name]
    change(world)
    rep = _audit(spec)
    assert _by_status(rep, Status.FAIL) == {expected}, [(f.id, f.target, f.message) for f in rep.findings
                                                       if f.status is Status.FAIL]
    assert _by_status(rep, Status.ERROR) == set()


def test_a_stale_manual_secret_fails_on_its_age(world, spec):
    from dataclasses import replace

    exp = from_spec(spec, stack=STACK)
    # The world's secrets were changed seconds ago: a maximum age of 0 days makes them stale.
    aws = replace(exp.aws, secrets=tuple(replace(s, max_age_days=0) if s.rotation == "manual" else s
                                         for s in exp.aws.secrets))
    rep = audit(replace(exp, aws=aws), only=["aws-secret-rotation"], timeout=2.0, deadline=30.0)
    failed = {f.target for f in rep.findings if f.status is Status.FAIL}
    assert failed == {_secret(world, "jwt-signing-key"), _secret(world, "stripe-api-key")}
    assert all("owner:" in f.message for f in rep.findings if f.status is Status.FAIL)


def test_no_secret_value_reaches_the_report(world, spec):
    values = [world.client("secretsmanager").get_secret_value(SecretId=_secret(world, i))["SecretString"]
              for i in ("jwt-signing-key", "smtp-password", "stripe-api-key")]
    text = json.dumps([(f.message, dict(f.evidence)) for f in _audit(spec).findings], default=str)
    assert not any(v in text for v in values)


# -- fire drill ----------------------------------------------------------------------------------------

def test_fire_drill_delivers_every_alarm_and_sets_it_back(world, spec):
    from worldkit.awsworld import AlarmRelay

    world.relay = AlarmRelay(world)
    try:
        rep = _audit(spec, only=[DRILL], fire_drill=True)
    finally:
        world.relay.stop()
        world.relay = None
    drill = [f for f in rep.findings if f.id == DRILL]
    assert len(drill) == len(world.contract["monitoring"]["alarms"])
    assert {f.status for f in drill} == {Status.PASS}, [(f.target, f.message) for f in drill]
    cw = world.client("cloudwatch", "us-east-1")
    assert {a["StateValue"] for a in cw.describe_alarms()["MetricAlarms"]} == {"OK"}
    # the drill's queue and subscription are gone
    assert world.client("sqs", "us-east-1").list_queues().get("QueueUrls", []) == []


def test_fire_drill_without_delivery_fails(world, spec):
    # no relay: nothing carries the alarm to the topic (as with an alarm whose actions are broken)
    rep = _audit(spec, only=[DRILL], fire_drill=True, timeout=0.8)
    assert {f.status for f in rep.findings if f.id == DRILL} == {Status.FAIL}, [(f.status, f.message) for f in rep.findings][:3]


# -- could not check -----------------------------------------------------------------------------------

class _Deny(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's spelling
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target"):
            body = json.dumps({"__type": "AccessDeniedException", "message": "not allowed here"}).encode()
            ctype = "application/x-amz-json-1.1"
        else:
            body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    b"<Message>not allowed here</Message></Error><RequestId>1</RequestId></ErrorResponse>")
            ctype = "text/xml"
        self.send_response(403)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # noqa: N815

    def log_message(self, *args):
        pass


def _dummy_env(monkeypatch, endpoint):
    for k, v in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(k, v)


CHECKED = ["aws-root-mfa", "aws-secret-exists", "aws-env-key", "aws-health-check"]


def test_access_denied_is_error_with_the_reason(spec, monkeypatch):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Deny)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        _dummy_env(monkeypatch, f"http://127.0.0.1:{srv.server_address[1]}")
        rep = _audit(spec, only=CHECKED)
    finally:
        srv.shutdown()
    assert {f.status for f in rep.findings} == {Status.ERROR}, [(f.id, f.status, f.message) for f in rep.findings]
    assert all("access denied" in f.message and f.error_type == "AwsAccessDenied" for f in rep.findings)


def test_unreachable_endpoint_is_error(spec, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    _dummy_env(monkeypatch, f"http://127.0.0.1:{port}")
    rep = _audit(spec, only=CHECKED)
    assert {f.status for f in rep.findings} == {Status.ERROR}
    assert {f.error_type for f in rep.findings} == {"AwsUnreachable"}


def test_no_credentials_is_a_quick_error(spec):
    import time

    t0 = time.monotonic()
    rep = _audit(spec)   # tests/conftest.py removes every AWS setting
    assert time.monotonic() - t0 < 5
    assert {f.status for f in rep.findings if f.id != DRILL} == {Status.ERROR}
    assert {f.error_type for f in rep.findings if f.id != DRILL} == {"AwsNotConfigured"}
