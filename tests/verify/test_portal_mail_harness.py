"""The portal mail world itself (tests/worldkit/portalmail*.py, portaldovecot.py): the receiver's
verdicts over the world's DNS, and the private Dovecot's inbox. Proves the world before verify is
judged against it."""
from __future__ import annotations

import imaplib
import socket
import ssl
import time

import pytest
from worldkit.portaldata import Mail
from worldkit.portalmail import MAIL_HOST, MAILBOX_USER
from worldkit.portalmailapp import SmtpMailer
from worldkit.portalmailrecv import Dns, spf_eval

pytestmark = pytest.mark.world


def _delivered(world, to: str, timeout: float = 5.0) -> str:
    new = world.mail.dovecot.maildir / "new"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for f in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            text = f.read_text(errors="replace")
            if f"To: {to}" in text:
                return text
        time.sleep(0.05)
    raise AssertionError(f"nothing delivered to {to}")


@pytest.mark.parametrize("sign, dkim_verdict", [(True, "dkim=pass header.d=example.com"), (False, "dkim=none")])
def test_receiver_adds_authentication_results(portal_mail_world, sign, dkim_verdict):
    m = portal_mail_world.mail
    to = f"qa+harness-{int(sign)}-{time.time_ns()}@example.com"
    SmtpMailer(m.receiver.port, m.dkim_pem, sign=sign)(Mail(to, "harness", "hello"))
    ar = next(line for line in _delivered(portal_mail_world, to).splitlines() if line.startswith("Authentication-"))
    assert "spf=pass smtp.mailfrom=example.com" in ar and dkim_verdict in ar
    assert "dmarc=pass header.from=example.com" in ar   # SPF alone aligns (aspf=r)


def test_spf_of_the_world_zone(portal_mail_world):
    d = Dns(portal_mail_world.nameservers[0])
    assert spf_eval(d, "127.0.0.1", "example.com") == "pass"
    assert spf_eval(d, "192.0.2.99", "example.com") == "fail"
    assert spf_eval(d, "127.0.0.1", "app.example.com") == "fail"   # a non-sending host: v=spf1 -all


def _imap(world):
    ctx = ssl.create_default_context(cafile=world.ca_file)
    port = world.mail.dovecot.port

    class Pinned(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout):
            return self.ssl_context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout),
                                                server_hostname=MAIL_HOST)

    return Pinned(MAIL_HOST, 993, ssl_context=ctx, timeout=5)


def test_dovecot_serves_the_inbox_over_imaps_with_the_world_ca(portal_mail_world):
    box = _imap(portal_mail_world)
    assert box.login(MAILBOX_USER, portal_mail_world.mailbox_password)[0] == "OK"
    assert box.select("INBOX", readonly=True)[0] == "OK"
    box.logout()
    with pytest.raises(imaplib.IMAP4.error):
        _imap(portal_mail_world).login(MAILBOX_USER, "wrong")
