"""The portal mail world: the reference portal (portal.py) with password reset and invite
(portalmailapp.py), sending DKIM-signed mail over SMTP to a receiver that evaluates SPF, DKIM and
DMARC (portalmailrecv.py) and delivers into a Maildir served by a private Dovecot over IMAPS
(portaldovecot.py, certificate from the world CA), with example.com's DNS from its own knotd.

example.com's zone is the one a correct `pulumi up` leaves (world.render_domain), extended by what
the portal's sending needs: `ip4:127.0.0.1` in the apex SPF (the portal sends from loopback) and the
portal's DKIM selector `portal2026._domainkey`. DMARC (p=reject, adkim=s) is the stack's own.

    def test_x(portal_mail_world, monkeypatch):
        srv = portal_mail_world.server("reset-reusable")     # pins include mail.example.com:993
        ... audit(..., nameservers=portal_mail_world.nameservers, connect_to=srv.pins(), ca_file=srv.ca_file)
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .knot import KnotServer
from .portal import PortalServer, PortalWorld
from .portalapp import PortalApp
from .portaldovecot import Dovecot
from .portalmailapp import SELECTOR, MailPortalApp, MailPortalState, SmtpMailer
from .portalmailrecv import Receiver
from .portalvariants import CORRECT, PortalVariant

MAIL_HOST = "mail.example.com"
MAILBOX_USER = "qa@example.com"
MAILBOX_ENV = "PORTAL_MAILBOX"
TOKEN_LIFETIME = 3
WITHIN = 5

MAIL_SECTION = f"""    mailbox: {{host: {MAIL_HOST}, port: 993, username: "{MAILBOX_USER}", passwordEnv: {MAILBOX_ENV}}}
    reset: {{requestPath: /password/reset, emailField: email, within: {WITHIN}, tokenLifetime: {TOKEN_LIFETIME}}}
    invite: {{path: /api/invites, emailField: email, roleField: role, role: operator}}
"""


def _v(name: str, check: str, description: str) -> PortalVariant:
    return PortalVariant(name, check, description, frozenset({name}))


MAIL_VARIANTS: tuple[PortalVariant, ...] = (
    _v("reset-reusable", "portal-reset-single-use", "a reset token can be used again after it set a password"),
    _v("reset-never-expires", "portal-reset-expiry", "a reset token is accepted after tokenLifetime"),
    _v("reset-http-link", "portal-reset-link", "the reset mail links to http://app.example.com"),
    _v("reset-staging-link", "portal-reset-link", "the reset mail links to https://staging.example.com"),
    _v("reset-enumeration", "portal-user-enumeration", "a reset request for an unknown address answers 404"),
    _v("unsigned-mail", "portal-mail-auth", "the portal's mail carries no DKIM signature"),
    _v("invite-wrong-org", "portal-invite", "an accepted invite lands the invitee in another org"),
)
# Not weaknesses verify can judge, but failures it must report as ERROR: the portal drops its mail.
DROPPED = _v("mail-dropped", "", "the portal accepts reset and invite requests and sends no mail")
MAIL_VARIANTS_BY_NAME = {v.name: v for v in (CORRECT, *MAIL_VARIANTS, DROPPED)}


def mail_zone(dkim_key: rsa.RSAPrivateKey) -> str:
    """example.com as the launch contract renders it, plus the portal's sender and DKIM selector."""
    from .world import Keys, _edit_txt, dkim_txt, render_domain, world_expectations

    spec, exp = world_expectations("example.com")
    zone = render_domain(spec, exp, Keys.shared())
    holder = type("W", (), {"zone": zone})()
    _edit_txt(holder, "example.com", "v=spf1", lambda t: t.replace("v=spf1 ", "v=spf1 ip4:127.0.0.1 ", 1))
    from .world import _q

    zone.add(f"{SELECTOR}._domainkey.example.com", "TXT", _q(dkim_txt(dkim_key)))
    return zone.text()


@dataclass
class _Mail:
    knot: KnotServer
    dovecot: Dovecot
    receiver: Receiver
    dkim_pem: bytes


class PortalMailWorld(PortalWorld):
    """PortalWorld whose stack declares mailbox, reset and invite, and whose portals send mail."""

    variants = MAIL_VARIANTS_BY_NAME

    def __init__(self, tmpdir, allow_active: bool = True) -> None:
        super().__init__(tmpdir, allow_active, extra_section=MAIL_SECTION)
        self.mailbox_password = secrets.token_urlsafe(18)
        self._mail: _Mail | None = None

    @property
    def mail(self) -> _Mail:
        with self._lock:
            if self._mail is None:
                self._mail = self._start_mail()
            return self._mail

    def _start_mail(self) -> _Mail:
        key = rsa.generate_private_key(65537, 2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        knot = KnotServer(self.tmpdir / "mail-knot", {"example.com": mail_zone(key)}).start()
        now = dt.datetime.now(dt.UTC)
        cert, leaf_key = self.ca.leaf((MAIL_HOST,), now - dt.timedelta(days=1), now + dt.timedelta(days=90))
        cert_path, key_path = self.tmpdir / "mail-leaf.pem", self.tmpdir / "mail-leaf.key"
        cert_path.write_bytes(cert)
        key_path.write_bytes(leaf_key)
        key_path.chmod(0o600)
        try:
            dovecot = Dovecot(str(cert_path), str(key_path), MAILBOX_USER, self.mailbox_password).start()
        except BaseException:
            knot.stop()
            raise
        receiver = Receiver(("127.0.0.1", knot.port), dovecot.deliver).start()
        return _Mail(knot, dovecot, receiver, pem)

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", self.mail.knot.port)]

    def make_app(self, v: PortalVariant) -> PortalApp:
        m = self.mail
        mailer = SmtpMailer(m.receiver.port, m.dkim_pem, sign="unsigned-mail" not in v.flags,
                            drop="mail-dropped" in v.flags)
        return MailPortalApp(MailPortalState(self.passwords, mailer, token_lifetime=TOKEN_LIFETIME), v.flags)

    def on_server(self, srv: PortalServer) -> None:
        srv.extra_pins = {(MAIL_HOST, 993): ("127.0.0.1", self.mail.dovecot.port)}
        srv.extra_env = {MAILBOX_ENV: self.mailbox_password}

    def stop(self) -> None:
        super().stop()
        with self._lock:
            if self._mail is not None:
                self._mail.receiver.stop()
                self._mail.dovecot.stop()
                self._mail.knot.stop()
                self._mail = None


@pytest.fixture(scope="session")
def portal_mail_world(tmp_path_factory):
    """The session's PortalMailWorld: `portal_mail_world.server("correct")`, `.server("reset-reusable")`, ..."""
    from .portaldovecot import dovecot_binary
    from .webnginx import nginx_binary

    try:
        nginx_binary()
        dovecot_binary()
    except RuntimeError as e:
        pytest.fail(str(e))
    with PortalMailWorld(tmp_path_factory.mktemp("portal-mail-world")) as w:
        yield w
