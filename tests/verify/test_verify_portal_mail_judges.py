"""The portal mail judges over hand-made observations, and the message helpers over hand-made mail:
no network (DKIM keys come from a fake DNS client)."""
from __future__ import annotations

import base64
import dataclasses

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from verify.checks import portalguards, portalmailchecks
from verify.checks.portalmailchecks import MailNotChecked
from verify.model import Status
from verify.portalexpect import Account, InviteShape, MailboxShape, PortalExpectations, ResetShape, SessionShape
from verify.portalimap import auth_results, find_link, own_dkim
from verify.portalmail import describe_link, portal_url
from verify.probes.portalprobes import PortalObservation
from verify.registry import Item, Observations, key

pytestmark = pytest.mark.unit
PORTAL = key("portal")
EXP = PortalExpectations(
    base_url="https://app.example.com", api_base_url="https://api.example.com", session=SessionShape(),
    orgs=(("acme", "ACME-1234567"), ("globex", "GLOBEX-1234567")),
    accounts=(Account("acme-admin", "acme", "admin", "qa+a@example.com", "PW_A"),
              Account("globex-client", "globex", "client", "qa+g@example.com", "PW_G")),
    mailbox=MailboxShape("mail.example.com", 993, "qa@example.com", "MBOX"), reset=ResetShape(within=5, token_lifetime=3),
    invite=InviteShape())
AR = {"authserv": "mx", "spf": "pass", "dkim": "pass", "dmarc": "pass"}
MSG = {"journey": "reset", "ar": AR, "own_dkim": "pass", "dkim_d": "example.com", "from_domain": "example.com",
       "aligned": True, "message": "abc"}
RESET = {"account": "acme-admin", "arrived_s": 0.3, "link": {"scheme": "https", "host": "app.example.com",
         "path": "/password/reset/confirm", "query": "1234"}, "page_status": 200,
         "first_use": {"status": 200, "accepted": True}, "reuse": {"status": 400, "accepted": False},
         "signin_after": {"status": 302, "ok": True},
         "expiry": {"waited_s": 4.1, "lifetime_s": 3, "status": 400, "accepted": False}}
INVITE = {"inviter": "acme-admin", "invitee": "launchready-1", "role": "operator", "request_status": 201,
          "arrived_s": 0.2, "accept": {"status": 200, "accepted": True}, "signin": {"status": 302, "ok": True},
          "org_matches": True, "role_seen": ["operator"], "role_matches": True,
          "reads": [{"owner": "acme", "own": True, "path": "/p/{id}", "status": 200, "marker": True},
                    {"owner": "globex", "own": False, "path": "/p/{id}", "status": 404, "marker": False}]}


def _mail(**kw) -> dict:
    return {"messages": [MSG, {**MSG, "journey": "invite"}], "reset": dict(RESET), "invite": dict(INVITE), **kw}


def _judge(judge, mail, data=EXP):
    o = PortalObservation(mail=mail)
    return judge(Item(data.base_url, (PORTAL,), data=data), Observations.of({PORTAL: o}))


def test_correct_journeys_pass():
    for j in (portalmailchecks.judge_reset_link, portalmailchecks.judge_reset_single_use,
              portalmailchecks.judge_reset_expiry, portalmailchecks.judge_invite, portalmailchecks.judge_mail_auth):
        assert _judge(j, _mail()).status is Status.PASS, j.__name__


@pytest.mark.parametrize("link", [{"scheme": "http", "host": "app.example.com"},
                                  {"scheme": "https", "host": "staging.example.com"}])
def test_reset_link_on_http_or_another_host_fails(link):
    m = _mail(reset={**RESET, "link": {**RESET["link"], **link}})
    v = _judge(portalmailchecks.judge_reset_link, m)
    assert v.status is Status.FAIL and link["host"] in v.message


def test_reused_and_unexpired_tokens_fail():
    assert _judge(portalmailchecks.judge_reset_single_use,
                  _mail(reset={**RESET, "reuse": {"status": 200, "accepted": True}})).status is Status.FAIL
    late = {**RESET["expiry"], "status": 200, "accepted": True}
    assert _judge(portalmailchecks.judge_reset_expiry, _mail(reset={**RESET, "expiry": late})).status is Status.FAIL
    long = {"skipped": "reset.tokenLifetime is 3600 s: verify waits at most 30 s"}
    v = _judge(portalmailchecks.judge_reset_expiry, _mail(reset={**RESET, "expiry": long}))
    assert v.status is Status.SKIPPED and "3600" in v.message


@pytest.mark.parametrize("change", [{"org_matches": False}, {"role_matches": False, "role_seen": ["admin"]},
                                    {"reads": [{"owner": "globex", "own": False, "path": "/p", "status": 200,
                                                "marker": True}]}])
def test_invite_in_another_org_role_or_reading_foreign_data_fails(change):
    assert _judge(portalmailchecks.judge_invite, _mail(invite={**INVITE, **change})).status is Status.FAIL


@pytest.mark.parametrize("change", [{"ar": {**AR, "dkim": "none"}}, {"own_dkim": "permerror"},
                                    {"aligned": False, "dkim_d": "mailer.net"}, {"ar": {**AR, "dmarc": "fail"}}])
def test_mail_auth_fails_on_any_verdict(change):
    v = _judge(portalmailchecks.judge_mail_auth, _mail(messages=[{**MSG, **change}]))
    assert v.status is Status.FAIL


def test_mail_auth_without_authentication_results_warns():
    assert _judge(portalmailchecks.judge_mail_auth, _mail(messages=[{**MSG, "ar": {}}])).status is Status.WARN


def test_could_not_check_is_error_and_not_active_is_skipped():
    judges = (portalmailchecks.judge_reset_link, portalmailchecks.judge_reset_single_use,
              portalmailchecks.judge_reset_expiry, portalmailchecks.judge_invite, portalmailchecks.judge_mail_auth)
    for j in judges:
        with pytest.raises(MailNotChecked, match="refused the login"):
            _judge(j, {"error": "IMAPS mail.example.com:993: the server refused the login"})
        assert _judge(j, {"skipped": "run verify with --active"}).status is Status.SKIPPED
    dropped = {"messages": [], "reset": {"error": "no reset mail within 5 s"}, "invite": {"error": "no invite mail"}}
    for j in judges:
        with pytest.raises(MailNotChecked):
            _judge(j, dropped)


def test_not_declared_plans_nothing():
    bare = dataclasses.replace(EXP, mailbox=None)
    for chk in portalmailchecks.CHECKS:
        assert chk.plan(type("E", (), {"portal": bare, "domain": "example.com"})()) == []


def test_reset_enumeration_joins_the_enumeration_check():
    same = {"statuses": [401] * 3, "locations": ["x"] * 3, "bodies": ["b"], "median_ms": 10.0}
    o = PortalObservation(enumeration={"known": same, "unknown": same}, mail={"reset_enum": {
        "known": {"status": 200, "body": "s", "location": ""}, "unknown": {"status": 404, "body": "t", "location": ""}}})
    v = portalguards.judge_enumeration(Item(EXP.base_url, (PORTAL,), data=EXP), Observations.of({PORTAL: o}))
    assert v.status is Status.FAIL and "reset request status 200 vs 404" in v.message


def test_links_are_described_without_their_token_and_used_on_the_portal_host():
    link = "http://staging.example.com/reset/AbCdEfGhIjKlMnOpQrSt?token=s3cr3t-t0ken-value-123"
    d = describe_link(link)
    assert "s3cr3t" not in str(d) and "AbCdEfGhIjKlMnOpQrSt" not in str(d) and d["host"] == "staging.example.com"
    assert portal_url(EXP, link).startswith("https://app.example.com/reset/")
    assert portal_url(EXP, "http://api.example.com/x?t=1") == "https://api.example.com/x?t=1"


def _signed_message(key, selector=b"s1"):
    raw = (b"From: Portal <no-reply@example.com>\r\nTo: qa@example.com\r\nSubject: Reset\r\n\r\n"
           b"Open https://app.example.com/password/reset/confirm?token=AbCdEfGhIjKlMnOpQrStUv within 3 s.\r\n")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return dkim.sign(raw, selector, b"example.com", pem, include_headers=[b"from", b"to", b"subject"]) + raw


class _FakeDns:
    def __init__(self, records):
        self.records = records

    def query(self, name, rdtype):
        texts = self.records.get(name.rstrip("."), [])
        return type("A", (), {"texts": lambda self: list(texts)})()


def test_own_dkim_tells_pass_fail_and_missing_key():
    key, other = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)

    def txt(k):
        der = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()

    raw = _signed_message(key)
    assert own_dkim(raw, _FakeDns({"s1._domainkey.example.com": [txt(key)]})) == ("pass", "example.com")
    assert own_dkim(raw, _FakeDns({"s1._domainkey.example.com": [txt(other)]}))[0] == "fail"
    assert own_dkim(raw, _FakeDns({}))[0] == "permerror"
    assert own_dkim(raw.split(b"\r\nFrom:", 1)[0][:0] + b"From: a@example.com\r\n\r\nx", _FakeDns({}))[0] == "none"
    assert find_link(raw).startswith("https://app.example.com/password/reset/confirm?token=")


def test_authentication_results_reads_the_topmost_header():
    raw = (b"Authentication-Results: mx.test; spf=pass smtp.mailfrom=example.com;\r\n dkim=fail header.d=x;"
           b" dmarc=pass header.from=example.com\r\nAuthentication-Results: old; dkim=pass\r\nFrom: a@example.com\r\n\r\n")
    assert auth_results(raw) == {"authserv": "mx.test", "spf": "pass", "dkim": "fail", "dmarc": "pass"}
    assert auth_results(b"From: a@example.com\r\n\r\n") == {}
