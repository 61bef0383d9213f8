"""The reference portal's password reset and invite journeys (portalapp.py's PortalApp, extended), and
the mailer that sends their mail DKIM-signed (dkimpy) over SMTP to the world's receiver.

Routes added (app.example.com pages; /api/invites on both hosts like every /api/* route):
  GET  /password/reset             the form (email, hidden csrf_token; a pre-login session like /login)
  POST /password/reset             the same 200 answer for any address; a known one gets a mail with
                                   https://app.example.com/password/reset/confirm?token=<single use>
  GET  /password/reset/confirm     the new-password form for a valid token (400 when used or expired)
  POST /password/reset/confirm     token, password, csrf_token: sets the password, spends the token
  POST /api/invites                admin only, X-CSRF-Token: JSON {email, role}; mails an accept link
  GET  /invite/accept, POST        like the reset confirm: the invitee's password; the account joins the
                                   inviter's org with the invited role
Tokens live `token_lifetime` seconds; only their SHA-256 is kept.
"""
from __future__ import annotations

import hashlib
import html
import json
import secrets
import smtplib
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs

import dkim

from .portalapp import APP_HOST, PortalApp, Reply, Request, _html, _json
from .portaldata import ORGS, Account, Mail, PortalState, hash_password

SENDER, BOUNCE, DKIM_DOMAIN, SELECTOR = "no-reply@example.com", "bounces@example.com", "example.com", "portal2026"
INVITE_LIFETIME = 7 * 86400
GENERIC_RESET = "<p>If the address belongs to an account, a link to reset its password is on its way.</p>\n"


def _h(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MailPortalState(PortalState):
    """PortalState with reset tokens, invites and accounts created by accepted invites."""

    def __init__(self, passwords: dict[str, str], mailer=None, token_lifetime: float = 3.0) -> None:
        super().__init__(passwords, mailer)
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, dict] = {}     # sha256(token) -> {kind, email, created, used, org, role}
        self._tlock = threading.Lock()

    def issue(self, kind: str, email: str, **extra) -> str:
        token = secrets.token_urlsafe(24)
        with self._tlock:
            self.tokens[_h(token)] = {"kind": kind, "email": email.strip().lower(), "created": time.time(),
                                      "used": False, **extra}
        return token

    def valid(self, kind: str, token: str, forever: bool = False) -> dict | None:
        with self._tlock:
            t = self.tokens.get(_h(token or ""))
        if t is None or t["kind"] != kind or t["used"]:
            return None
        lifetime = self.token_lifetime if kind == "reset" else INVITE_LIFETIME
        if not forever and time.time() - t["created"] > lifetime:
            return None
        return t

    def spend(self, token: str) -> None:
        with self._tlock:
            self.tokens[_h(token)]["used"] = True

    def set_password(self, email: str, password: str) -> None:
        account, _salt, _digest = self._users[email.strip().lower()]
        salt = secrets.token_bytes(16)
        self._users[email.strip().lower()] = (account, salt, hash_password(password, salt))

    def add_user(self, account: Account, password: str) -> None:
        salt = secrets.token_bytes(16)
        self._users[account.email.lower()] = (account, salt, hash_password(password, salt))

    def account_of(self, email: str) -> Account | None:
        entry = self._users.get(email.strip().lower())
        return entry[0] if entry else None


def _new_password_form(action: str, token: str, csrf: str) -> str:
    return (f'<form method="post" action="{action}">\n'
            f'<input type="hidden" name="token" value="{html.escape(token)}">\n'
            f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">\n'
            '<label>New password <input type="password" name="password" autocomplete="new-password" required>'
            '</label>\n<button type="submit">Save</button>\n</form>\n')


class MailPortalApp(PortalApp):
    """The reference portal with reset and invite; flags of portalmail.MAIL_VARIANTS."""

    def link(self, path: str, token: str) -> str:
        scheme = "http" if self.on("reset-http-link") else "https"
        host = "staging.example.com" if self.on("reset-staging-link") else APP_HOST
        return f"{scheme}://{host}{path}?token={token}"

    def pages(self, req: Request) -> Reply:
        routes = {("GET", "/password/reset"): self.reset_page, ("POST", "/password/reset"): self.reset_request,
                  ("GET", "/password/reset/confirm"): lambda r: self.confirm_page(r, "reset"),
                  ("POST", "/password/reset/confirm"): lambda r: self.confirm(r, "reset"),
                  ("GET", "/invite/accept"): lambda r: self.confirm_page(r, "invite"),
                  ("POST", "/invite/accept"): lambda r: self.confirm(r, "invite")}
        handler = routes.get((req.method, req.path))
        return handler(req) if handler else super().pages(req)

    def api(self, req: Request) -> Reply:
        if req.path == "/api/invites" and req.method == "POST":
            s = self.user_session(req)
            if s is None:
                return _json(401, {"error": "authentication required"})
            return self.invite(req, s)
        return super().api(req)

    def _pre(self, req: Request) -> tuple:
        s = self.session(req)
        headers = []
        if s is None:
            s = self.state.new_session()
            headers.append(self.set_cookie(s.id))
        return s, headers

    def reset_page(self, req: Request) -> Reply:
        s, headers = self._pre(req)
        form = (f'<form method="post" action="/password/reset">\n<input type="hidden" name="csrf_token" '
                f'value="{html.escape(s.csrf)}">\n<label>E-mail <input type="email" name="email" required></label>\n'
                '<button type="submit">Send link</button>\n</form>\n')
        return _html(200, "Reset password", form, *headers)

    def reset_request(self, req: Request) -> Reply:
        fields = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        if self.csrf_refused(req, self.session(req), fields.get("csrf_token")):
            return _html(403, "Forbidden", "<p>The form expired or came from another site.</p>\n")
        address = fields.get("email", "")
        if self.state.known(address):
            token = self.state.issue("reset", address)
            self.send(address, "Reset your portal password",
                      f"Someone asked to reset your password. Open this link within "
                      f"{int(self.state.token_lifetime)} seconds:\n\n{self.link('/password/reset/confirm', token)}\n")
        elif self.on("reset-enumeration"):
            return _html(404, "Reset password", "<p>No account with that address.</p>\n")
        return _html(200, "Reset password", GENERIC_RESET)

    def confirm_page(self, req: Request, kind: str) -> Reply:
        token = (req.query.get("token") or [""])[0]
        if self.state.valid(kind, token, forever=self.on("reset-never-expires")) is None:
            return _html(400, "Link expired", "<p>This link has expired or was already used.</p>\n")
        s, headers = self._pre(req)
        return _html(200, "Choose a password", _new_password_form(req.path, token, s.csrf), *headers)

    def confirm(self, req: Request, kind: str) -> Reply:
        fields = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        if self.csrf_refused(req, self.session(req), fields.get("csrf_token")):
            return _html(403, "Forbidden", "<p>The form expired or came from another site.</p>\n")
        token, password = fields.get("token", ""), fields.get("password", "")
        t = self.state.valid(kind, token, forever=self.on("reset-never-expires"))
        if t is None:
            return _html(400, "Link expired", "<p>This link has expired or was already used.</p>\n")
        if len(password) < 12:
            return _html(400, "Choose a password", "<p>At least 12 characters.</p>\n")
        if not self.on("reset-reusable"):
            self.state.spend(token)
        if kind == "reset":
            self.state.set_password(t["email"], password)
        else:
            account = Account(f"invitee-{_h(t['email'])[:8]}", t["org"], t["role"], t["email"], "")
            self.state.add_user(account, password)
        return _html(200, "Password saved", "<p>Your password is saved. <a href=\"/login\">Sign in</a>.</p>\n")

    def invite(self, req: Request, s) -> Reply:
        if self.csrf_refused(req, s, req.headers.get("x-csrf-token")):
            return _json(403, {"error": "CSRF check failed"})
        if s.account.role != "admin":
            return _json(403, {"error": "forbidden"})
        try:
            data = json.loads(req.body or b"")
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        address, role = (data.get("email"), data.get("role")) if isinstance(data, dict) else (None, None)
        if not isinstance(address, str) or "@" not in address or role not in ("admin", "manager", "operator", "client"):
            return _json(400, {"error": "email and a known role are required"})
        org = s.account.org
        if self.on("invite-wrong-org"):
            org = next(o.name for o in ORGS if o.name != org)
        token = self.state.issue("invite", address, org=org, role=role)
        self.send(address, "You are invited to the client portal",
                  f"{s.account.email} invited you. Accept within 7 days:\n\n"
                  f"https://{APP_HOST}/invite/accept?token={token}\n")
        return _json(201, {"invited": address, "role": role})

    def send(self, to: str, subject: str, body: str) -> None:
        self.state.mailer(Mail(to, subject, body))


class SmtpMailer:
    """The portal's outgoing mail: a MIME message from no-reply@example.com, DKIM-signed (unless
    `sign` is False), sent over SMTP to the receiver on 127.0.0.1; `drop` sends nothing."""

    def __init__(self, port: int, private_pem: bytes, sign: bool = True, drop: bool = False) -> None:
        self.port, self.key, self.sign, self.drop = port, private_pem, sign, drop

    def __call__(self, mail: Mail) -> None:
        if self.drop:
            return
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"Client portal <{SENDER}>", mail.to, mail.subject
        msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain=DKIM_DOMAIN)
        msg.set_content(mail.body)
        raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self.sign:
            sig = dkim.sign(raw, SELECTOR.encode(), DKIM_DOMAIN.encode(), self.key,
                            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
            raw = sig + raw
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="portal.example.com", timeout=5) as smtp:
            smtp.sendmail(BOUNCE, [mail.to], raw)
