"""verify's portal mail journeys against the reference portal with reset and invite (tests/worldkit/
portalmail*.py): mail DKIM-signed over SMTP to a receiver that adds Authentication-Results, read over
IMAPS from a private Dovecot, DNS from the world's knotd.

The correct portal gives all PASS with the mail parts; each mail variant FAILs exactly its id; a
broken IMAP login and a portal that drops its mail give ERROR with the reason, never FAIL; without
--active the mail checks are SKIPPED. No password, token or marker reaches any format.
"""
from __future__ import annotations

import pytest
from worldkit.portalmail import MAIL_VARIANTS

from verify.audit import audit
from verify.expectations import from_spec
from verify.model import Status

pytestmark = pytest.mark.world
MAIL_IDS = {"portal-reset-link", "portal-reset-single-use", "portal-reset-expiry", "portal-invite", "portal-mail-auth"}


def _run(world, srv, monkeypatch, **kw):
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    kw.setdefault("only", ["portal"])
    kw.setdefault("skip", ["portal-browser-journey"])   # --browser: its own tests
    kw.setdefault("active", True)
    kw.setdefault("samples", 10)
    srv.reset_throttle()
    return audit(from_spec(srv.spec(), stack="portal"), nameservers=world.nameservers, ca_file=srv.ca_file,
                 connect_to=srv.pins(), **kw)


def _others(rep, *ok):
    return [(f.id, f.target, f.status.value, f.message) for f in rep.findings if f.status not in ok]


def test_correct_portal_passes_with_the_mail_journeys(portal_mail_world, monkeypatch):
    srv = portal_mail_world.server("correct")
    rep = _run(portal_mail_world, srv, monkeypatch)
    assert _others(rep, Status.PASS) == []
    assert {f.id for f in rep.findings} >= MAIL_IDS | {"portal-user-enumeration"}
    by = {f.id: f for f in rep.findings}
    assert "reset request" in by["portal-user-enumeration"].message
    assert by["portal-mail-auth"].evidence["messages"][0]["ar"]["dkim"] == "pass"
    assert rep.exit_code == 0


@pytest.mark.parametrize("variant", MAIL_VARIANTS, ids=lambda v: v.name)
def test_each_mail_weakness_fails_exactly_its_check(portal_mail_world, monkeypatch, variant):
    rep = _run(portal_mail_world, portal_mail_world.server(variant.name), monkeypatch)
    assert {f.id for f in rep.findings if f.status is Status.FAIL} == {variant.expected_fail}, \
        [(f.id, f.message, f.evidence) for f in rep.findings if f.status is not Status.PASS]
    assert [f for f in rep.findings if f.status in (Status.ERROR, Status.WARN)] == [], _others(rep, Status.PASS)
    assert all(f.remediation for f in rep.findings if f.status is Status.FAIL)


def test_a_broken_imap_login_is_error_with_the_reason(portal_mail_world, monkeypatch):
    srv = portal_mail_world.server("correct")
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PORTAL_MAILBOX", "not-the-password")
    srv.reset_throttle()
    rep = audit(from_spec(srv.spec(), stack="portal"), nameservers=portal_mail_world.nameservers,
                ca_file=srv.ca_file, connect_to=srv.pins(), only=sorted(MAIL_IDS), active=True)
    assert {f.id: f.status for f in rep.findings} == {i: Status.ERROR for i in MAIL_IDS}
    assert all("refused the login" in f.message for f in rep.findings), _others(rep)
    assert rep.exit_code == 2


def test_mail_that_never_arrives_is_error_never_fail(portal_mail_world, monkeypatch):
    rep = _run(portal_mail_world, portal_mail_world.server("mail-dropped"), monkeypatch)
    by = {f.id: f for f in rep.findings}
    assert {i: by[i].status for i in MAIL_IDS} == {i: Status.ERROR for i in MAIL_IDS}
    assert "within" in by["portal-reset-link"].message
    assert not [f for f in rep.findings if f.status is Status.FAIL]


def test_mail_journeys_need_active(portal_mail_world, monkeypatch):
    srv = portal_mail_world.server("correct")
    before = len(list((portal_mail_world.mail.dovecot.maildir / "new").iterdir()))
    rep = _run(portal_mail_world, srv, monkeypatch, active=False, only=sorted(MAIL_IDS))
    assert {f.status for f in rep.findings} == {Status.SKIPPED}
    assert all("--active" in f.message for f in rep.findings)
    assert len(list((portal_mail_world.mail.dovecot.maildir / "new").iterdir())) == before


def test_no_password_or_token_in_any_format(portal_mail_world, monkeypatch):
    from infra.findings.render import RENDERERS

    srv = portal_mail_world.server("reset-reusable")
    rep = _run(portal_mail_world, srv, monkeypatch)
    tokens = list(srv.state.tokens)
    secrets_ = [*srv.passwords.values(), portal_mail_world.mailbox_password]
    for fmt, render in RENDERERS.items():
        text = render(rep)
        assert not [p for p in secrets_ if p in text], fmt
        assert not [t for t in tokens if t in text], fmt
        assert "token=" not in text, fmt


def test_cli_with_pins_nameserver_and_ca_file(portal_mail_world, monkeypatch, capsys):
    """The user's path: --connect-to pins the IMAPS host too, --nameserver serves the DKIM key."""
    import json

    from verify.cli import main

    srv = portal_mail_world.server("correct")
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    srv.reset_throttle()
    (ns,) = portal_mail_world.nameservers
    rc = main(["--stack", "portal", "--stacks-dir", str(srv.stacks_dir), "--nameserver", f"{ns[0]}:{ns[1]}",
               *srv.verify_args(), "--only", ",".join(sorted(MAIL_IDS)), "--active", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {f["id"]: f["status"] for f in doc["findings"]} == {i: "PASS" for i in MAIL_IDS}
    assert rc == 0
