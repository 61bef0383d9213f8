"""Portal section of the stack spec: the client portal's own journeys, for verify's `portal` checks.

It declares how a session is made, the test accounts of at least two orgs (with roles), the object
endpoints each org owns with a marker only that org's data contains, the admin endpoints, the
state-changing endpoints that need CSRF protection, the session lifetime and the login throttle.
Passwords are never in the stack file: each account names the environment variable that holds its
password (`passwordEnv`), set by CI from its secret store. A plain `password:` key is an unknown
key (with a did-you-mean) and its value is never echoed.

infra declares nothing from this section; policies judge nothing of it (it describes the app, not
the edge). It lives in the one spec so that verify's expectations come from the same file.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictBool, field_validator

from .fields import Hostname, PositiveInt, UrlPath
from .model import Model, SpecView

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("is not an environment variable name (upper case letters, digits and _; the variable "
                         "holds the password, the stack file only names it)")
    return value


class PortalSession(Model):
    """How verify signs in: a form post, a JSON post, or a JSON post answering a bearer token."""

    kind: Literal["form", "json", "bearer"] = "form"
    login_path: UrlPath = "/login"
    username_field: str = Field("email", min_length=1, max_length=64)
    password_field: str = Field("password", min_length=1, max_length=64)
    token_field: str = Field("token", min_length=1, max_length=64)          # bearer: the JSON key of the token
    csrf_field: str | None = Field(None, min_length=1, max_length=64)      # hidden input / JSON key of the login form
    csrf_header: str | None = Field("X-CSRF-Token", min_length=1, max_length=64)  # what state changes carry
    cookie: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+$")       # default: cache.sessionCookie
    logout_path: UrlPath = "/logout"
    logout_method: Literal["POST", "GET"] = "POST"
    whoami_path: UrlPath = "/api/me"
    lifetime: PositiveInt = Field(86400, description="seconds a session may live at most, e.g. 28800")


class PortalOrg(Model):
    name: str = Field(pattern=_NAME)
    # A string that only this org's data contains (a project name, an invoice reference): verify
    # reports whether it appeared, never the data around it.
    marker: str = Field(min_length=6, max_length=200)


class PortalAccount(Model):
    name: str = Field(pattern=_NAME)
    org: str = Field(pattern=_NAME)
    role: str = Field(min_length=1, max_length=64)
    username: str = Field(min_length=1, max_length=254)
    password_env: str = Field(description="the environment variable holding the password")

    _env = field_validator("password_env")(classmethod(lambda cls, v: _env_name(v)))


class ObjectEndpoint(Model):
    """An object endpoint as a template, e.g. /api/projects/{id}, with an id each org owns."""

    path: str = Field(pattern=r"^/\S*\{id\}\S*$", description="a path with {id}, e.g. /api/projects/{id}")
    ids: dict[str, str] = Field(min_length=2, description="org name -> an id that org owns")


class CsrfEndpoint(Model):
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: UrlPath
    # The JSON body a legitimate request sends (verify sends it without the CSRF token, or from a hostile Origin).
    body: dict[str, str | int | bool] = Field(default_factory=dict)


class Throttle(Model):
    attempts: PositiveInt = Field(description="failed logins allowed per window, e.g. 10")
    window: PositiveInt = Field(60, description="seconds, e.g. 60")


class Mailbox(Model):
    """Where the test accounts receive mail (IMAP over TLS), for the reset and invite journeys."""

    host: Hostname
    port: PositiveInt = 993
    username: str = Field(min_length=1, max_length=254)
    password_env: str
    plus_addressing: StrictBool = True   # fresh invitees: user+<tag>@domain

    _env = field_validator("password_env")(classmethod(lambda cls, v: _env_name(v)))


class ResetFlow(Model):
    request_path: UrlPath = "/password/reset"
    email_field: str = "email"
    within: PositiveInt = Field(120, description="seconds for the mail to arrive, e.g. 60")
    token_lifetime: PositiveInt = Field(3600, description="seconds a reset link stays valid")


class InviteFlow(Model):
    path: UrlPath = "/api/invites"
    email_field: str = "email"
    role_field: str = "role"
    role: str = "operator"


class Portal(Model):
    base_url: str = Field(pattern=r"^https://[^/\s]+$", description="e.g. https://app.example.com")
    api_base_url: str | None = Field(None, pattern=r"^https://[^/\s]+$")
    session: PortalSession = PortalSession()
    orgs: list[PortalOrg] = Field(min_length=2)
    accounts: list[PortalAccount] = Field(min_length=2)
    admin_roles: list[str] = Field(default_factory=lambda: ["admin"], min_length=1)
    objects: list[ObjectEndpoint] = Field(default_factory=list)
    lists: list[UrlPath] = Field(default_factory=list)          # list endpoints: never another org's marker
    admin_paths: list[UrlPath] = Field(default_factory=list)    # refused to every role but admin_roles
    csrf: list[CsrfEndpoint] = Field(default_factory=list)
    flows: list[UrlPath] = Field(default_factory=list)          # authenticated main flows, timed with a session
    login_throttle: Throttle | None = None
    mailbox: Mailbox | None = None
    reset: ResetFlow | None = None
    invite: InviteFlow | None = None
    # State-changing and throttle probes need `verify --active`; on a production stack also this.
    allow_active_in_production: StrictBool = False

    def host(self) -> str:
        return self.base_url.split("://", 1)[1].split(":")[0].lower()

    def api_host(self) -> str:
        return (self.api_base_url or self.base_url).split("://", 1)[1].split(":")[0].lower()

    def problems(self, spec: SpecView) -> list[tuple[tuple, str]]:
        out: list[tuple[tuple, str]] = []
        for key, host in (("baseUrl", self.host()), ("apiBaseUrl", self.api_host())):
            if spec.host(host) is None:
                out.append((("portal", key), f"{host!r} is not among hosts"))
        orgs = [o.name for o in self.orgs]
        out += _duplicates(("portal", "orgs"), orgs) + _duplicates(("portal", "accounts"), [a.name for a in self.accounts])
        for i, a in enumerate(self.accounts):
            if a.org not in orgs:
                out.append((("portal", "accounts", i, "org"), f"{a.org!r} is not among orgs ({', '.join(orgs)})"))
        with_accounts = {a.org for a in self.accounts}
        if len(with_accounts & set(orgs)) < 2:
            out.append((("portal", "accounts"), "needs accounts in at least two orgs: tenant boundaries are proven "
                                                "by one org's session reading another org's objects"))
        for i, ep in enumerate(self.objects):
            for org in ep.ids:
                if org not in orgs:
                    out.append((("portal", "objects", i, "ids", org), f"is not among orgs ({', '.join(orgs)})"))
        if self.admin_paths and not any(a.role in self.admin_roles for a in self.accounts):
            out.append((("portal", "adminRoles"), "no test account has an admin role: admin endpoints cannot be "
                                                  "proven reachable by an admin"))
        return out


def _duplicates(loc: tuple, names: list[str]) -> list[tuple[tuple, str]]:
    seen: set[str] = set()
    out = []
    for i, n in enumerate(names):
        if n in seen:
            out.append(((*loc, i, "name"), f"{n!r} is declared twice"))
        seen.add(n)
    return out
