"""A signed-in user of the portal, as verify plays one: a cookie jar over verify.webclient.WebClient.

Cookies are kept by name (the portal is one site); their values never leave this module except as
short hashes. Passwords are read from the environment variable each account names, at sign-in, and
are never stored.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .cookies import parse_set_cookie
from .portalexpect import Account, SessionShape
from .webclient import HttpResponse, WebClient, WebError


class MissingPassword(Exception):
    """The environment variable an account names is not set: could not check (never a FAIL)."""


def digest(value: str | bytes | None) -> str:
    """A short hash for evidence: two values can be compared, neither can be read."""
    if value is None:
        return ""
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass
class Jar:
    web: WebClient
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookie: dict[str, dict[str, str]] = field(default_factory=dict)   # name -> attributes last set
    bearer: str | None = None

    def request(self, method: str, url: str, *, headers: tuple[tuple[str, str], ...] = (), body: bytes | None = None,
                json_body: object = None, form: dict | None = None) -> HttpResponse:
        hs = list(headers)
        if json_body is not None:
            body, hs = json.dumps(json_body).encode(), [*hs, ("Content-Type", "application/json")]
        elif form is not None:
            body, hs = urlencode(form).encode(), [*hs, ("Content-Type", "application/x-www-form-urlencoded")]
        if self.cookies:
            hs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        if self.bearer:
            hs.append(("Authorization", f"Bearer {self.bearer}"))
        r = self.web.fetch(method, url, headers=tuple(hs), body=body, credentials=True)
        for raw in r.all("set-cookie"):
            name, attrs = parse_set_cookie(raw)
            value = raw.split(";", 1)[0].split("=", 1)[1].strip() if "=" in raw.split(";", 1)[0] else ""
            self.set_cookie[name] = attrs
            if not (name + value).isascii() or not (name + value).isprintable() or ";" in value:
                continue  # a cookie no browser would send back, and no header can carry
            if attrs.get("max-age", "").strip() in ("0", "-1") or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r

    def copy(self) -> Jar:
        return Jar(self.web, dict(self.cookies), {k: dict(v) for k, v in self.set_cookie.items()}, self.bearer)


@dataclass(frozen=True)
class SignIn:
    account: str
    status: int                       # the login answer
    location: str | None              # where it sends the browser next
    before: str                       # hash of the session cookie before login ("" when none)
    after: str                        # ... and after
    cookie_attrs: dict                # the session cookie's attributes as set at login (no value)
    whoami: int                       # "who am I" with the new session
    ok: bool
    body_shape: str = ""              # hash of the login answer with the address and per-session tokens taken out


_TOKENISH = re.compile(r"[A-Za-z0-9_\-+/=.]{16,}")


def body_shape(text: str, address: str) -> str:
    """What a failed sign-in says, comparable across sessions: the submitted address and anything that
    looks like a per-session token (a re-shown form's CSRF value) are taken out before hashing."""
    return digest(_TOKENISH.sub("<token>", text.replace(address, "<address>")))


def _hidden(html: str, name: str) -> str | None:
    pattern = r'<input[^>]{0,300}name=["\']' + re.escape(name) + r'["\'][^>]{0,300}>'
    m = re.search(pattern, html, re.I)
    if not m:
        return None
    v = re.search(r'value=["\']([^"\']{0,512})["\']', m.group(0), re.I)
    return v.group(1) if v else None


def stranger(account: Account, label: str) -> Account:
    """An address at the account's domain that is no test account (`launchready-<label>@domain`): the
    unknown side of the enumeration probes and the throttle's first target. It has no password."""
    from dataclasses import replace

    domain = account.username.rsplit("@", 1)[-1] if "@" in account.username else "example.com"
    return replace(account, name=label, username=f"launchready-{label}@{domain}", password_env="")


def password_of(account: Account) -> str:
    value = os.environ.get(account.password_env)
    if not value:
        raise MissingPassword(f"account {account.name}: the environment variable {account.password_env} is not set "
                              "(it holds the test account's password)")
    return value


def sign_in(web: WebClient, shape: SessionShape, base: str, api: str, account: Account,
            password: str | None = None) -> tuple[SignIn, Jar]:
    """Sign in as `account` the way the portal declares; (summary, the signed-in jar)."""
    jar = Jar(web)
    secret = password if password is not None else password_of(account)
    url = base + shape.login_path
    fields = {shape.username_field: account.username, shape.password_field: secret}
    if shape.kind == "form":
        page = jar.request("GET", url)
        if shape.csrf_field:
            token = _hidden(page.text(), shape.csrf_field)
            if token is not None:
                fields[shape.csrf_field] = token
    before = digest(jar.cookies.get(shape.cookie))
    origin = (("Origin", base),)
    if shape.kind == "form":
        r = jar.request("POST", url, headers=origin, form=fields)
    else:
        r = jar.request("POST", url, headers=origin, json_body=fields)
        if shape.kind == "bearer" and r.status == 200:
            try:
                token = str(json.loads(r.text())[shape.token_field])
                jar.bearer = token if token.isascii() and token.isprintable() else None
            except (ValueError, KeyError, TypeError):
                jar.bearer = None
    after = digest(jar.cookies.get(shape.cookie))
    who = jar.request("GET", api + shape.whoami_path)
    summary = SignIn(account=account.name, status=r.status, location=r.location, before=before, after=after,
                     cookie_attrs=dict(jar.set_cookie.get(shape.cookie, {})), whoami=who.status,
                     ok=who.status == 200, body_shape=body_shape(r.text(), account.username))
    return summary, jar


def csrf_token(jar: Jar, shape: SessionShape, base: str, api: str) -> str | None:
    """The CSRF token a legitimate page would send: a csrf/xsrf cookie, a field of "who am I", a
    meta tag or the declared hidden input of the portal's page. None when the portal shows none."""
    for name, value in jar.cookies.items():
        if re.search(r"(?i)csrf|xsrf", name):
            return value
    try:
        who = json.loads(jar.request("GET", api + shape.whoami_path).text())
        for k, v in (who.items() if isinstance(who, dict) else ()):
            if re.search(r"(?i)csrf|xsrf", k) and isinstance(v, str):
                return v
    except (ValueError, WebError):
        pass
    html = jar.request("GET", base + "/").text()
    m = re.search(r'<meta[^>]{0,200}name=["\']csrf-token["\'][^>]{0,200}content=["\']([^"\']{1,512})', html, re.I)
    if m:
        return m.group(1)
    return _hidden(html, shape.csrf_field) if shape.csrf_field else None
