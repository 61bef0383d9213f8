"""What the `portal` checks expect: the stack's portal section as plain frozen data.

Passwords are not here: each account names the environment variable that holds its password, read
by the probe when it signs in (verify.portalclient), never stored in an observation or a result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .webexpect import DEFAULT_LATENCY_MS


@dataclass(frozen=True)
class Account:
    name: str
    org: str
    role: str
    username: str
    password_env: str


@dataclass(frozen=True)
class ObjectEndpoint:
    path: str                              # with {id}
    ids: tuple[tuple[str, str], ...]       # (org, id)

    def url(self, base: str, object_id: str) -> str:
        return base + self.path.replace("{id}", object_id)


@dataclass(frozen=True)
class StateChange:
    method: str
    path: str
    body: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class SessionShape:
    kind: str = "form"
    login_path: str = "/login"
    username_field: str = "email"
    password_field: str = "password"
    token_field: str = "token"
    csrf_field: str | None = None
    csrf_header: str | None = "X-CSRF-Token"
    cookie: str = "session"
    logout_path: str = "/logout"
    logout_method: str = "POST"
    whoami_path: str = "/api/me"
    lifetime: int = 86400


@dataclass(frozen=True)
class MailboxShape:
    host: str
    port: int
    username: str
    password_env: str
    plus_addressing: bool = True

    def plus(self, tag: str) -> str:
        local, _, domain = self.username.partition("@")
        return f"{local}+{tag}@{domain}"

    def receives(self, address: str) -> bool:
        """Whether mail to `address` lands in this mailbox (the user itself or a plus-address of it)."""
        local, _, domain = address.lower().partition("@")
        mlocal, _, mdomain = self.username.lower().partition("@")
        return domain == mdomain and (local == mlocal or (self.plus_addressing and local.split("+")[0] == mlocal))


@dataclass(frozen=True)
class ResetShape:
    request_path: str = "/password/reset"
    email_field: str = "email"
    within: int = 120
    token_lifetime: int = 3600


@dataclass(frozen=True)
class InviteShape:
    path: str = "/api/invites"
    email_field: str = "email"
    role_field: str = "role"
    role: str = "operator"


@dataclass(frozen=True)
class PortalExpectations:
    base_url: str
    api_base_url: str
    session: SessionShape
    orgs: tuple[tuple[str, str], ...]      # (name, marker)
    accounts: tuple[Account, ...]
    admin_roles: tuple[str, ...] = ("admin",)
    objects: tuple[ObjectEndpoint, ...] = ()
    lists: tuple[str, ...] = ()
    admin_paths: tuple[str, ...] = ()
    csrf: tuple[StateChange, ...] = ()
    flows: tuple[str, ...] = ()
    throttle: tuple[int, int] | None = None    # (attempts, window seconds)
    latency_p95_ms: int = DEFAULT_LATENCY_MS
    production: bool = True
    allow_active_in_production: bool = False
    mailbox: MailboxShape | None = None
    reset: ResetShape | None = None
    invite: InviteShape | None = None

    def marker(self, org: str) -> str:
        return dict(self.orgs)[org]

    def by_org(self) -> dict[str, list[Account]]:
        out: dict[str, list[Account]] = {}
        for a in self.accounts:
            out.setdefault(a.org, []).append(a)
        return out

    def active_refused(self) -> str | None:
        """Why state-changing probes may not run on this stack, or None."""
        if self.production and not self.allow_active_in_production:
            return ("the stack is production and portal.allowActiveInProduction is false: state-changing and "
                    "throttle probes are not run against it")
        return None


def portal_from_spec(spec: Any) -> PortalExpectations | None:
    p = getattr(spec, "portal", None)
    if p is None:
        return None
    s = p.session
    mon = getattr(spec, "monitoring", None)
    return PortalExpectations(
        base_url=p.base_url.rstrip("/"), api_base_url=(p.api_base_url or p.base_url).rstrip("/"),
        session=SessionShape(kind=s.kind, login_path=s.login_path, username_field=s.username_field,
                             password_field=s.password_field, token_field=s.token_field, csrf_field=s.csrf_field,
                             csrf_header=s.csrf_header, cookie=s.cookie or spec.cache.session_cookie,
                             logout_path=s.logout_path, logout_method=s.logout_method, whoami_path=s.whoami_path,
                             lifetime=s.lifetime),
        orgs=tuple((o.name, o.marker) for o in p.orgs),
        accounts=tuple(Account(a.name, a.org, a.role, a.username, a.password_env) for a in p.accounts),
        admin_roles=tuple(p.admin_roles),
        objects=tuple(ObjectEndpoint(o.path, tuple(sorted(o.ids.items()))) for o in p.objects),
        lists=tuple(p.lists), admin_paths=tuple(p.admin_paths),
        csrf=tuple(StateChange(c.method, c.path, tuple(sorted(c.body.items()))) for c in p.csrf),
        flows=tuple(p.flows),
        throttle=(p.login_throttle.attempts, p.login_throttle.window) if p.login_throttle else None,
        latency_p95_ms=int(mon.latency_threshold_ms) if mon is not None else DEFAULT_LATENCY_MS,
        production=spec.environment == "production", allow_active_in_production=p.allow_active_in_production,
        **_mail_parts(p),
    )


def _mail_parts(p: Any) -> dict:
    m, r, i = p.mailbox, p.reset, p.invite
    return {
        "mailbox": MailboxShape(m.host.lower(), m.port, m.username, m.password_env, m.plus_addressing) if m else None,
        "reset": ResetShape(r.request_path, r.email_field, r.within, r.token_lifetime) if r else None,
        "invite": InviteShape(i.path, i.email_field, i.role_field, i.role) if i else None,
    }
