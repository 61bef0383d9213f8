"""The reference portal's state (portalapp.py): orgs, test accounts, projects, server-side sessions,
the login throttle and the outbox of the mail hook. Pure Python, thread-safe, no I/O.

Passwords are generated when a PortalWorld starts (`generate_passwords`), never written to a file;
only a PBKDF2 hash is kept by the app. An unknown e-mail is checked against a dummy hash, so a
failed login costs the same time whether or not the address exists.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "__Host-portal_session"
LIFETIME = 28800                      # seconds: Max-Age of the cookie and the server-side bound
FOREVER = 10 * 365 * 24 * 3600        # the session-forever variant's Max-Age
THROTTLE_ATTEMPTS, THROTTLE_WINDOW = 10, 60
PBKDF2_ROUNDS = 20_000                # a few ms: a real hash cost, cheap enough for throttle probes
MAX_SESSIONS = 20_000                 # oldest dropped beyond this (pre-login sessions of probes)


@dataclass(frozen=True)
class Org:
    name: str
    title: str     # what /dashboard shows
    marker: str    # a string only this org's data contains


@dataclass(frozen=True)
class Account:
    name: str      # the spec's account name, e.g. acme-admin
    org: str
    role: str      # admin | manager | operator | client
    email: str
    password_env: str


ORGS: tuple[Org, ...] = (
    Org("acme", "Acme Corporation", "ACME-PROJECT-7731"),
    Org("globex", "Globex Corporation", "GLOBEX-PROJECT-4410"),
)
ORGS_BY_NAME = {o.name: o for o in ORGS}

ACCOUNTS: tuple[Account, ...] = (
    Account("acme-admin", "acme", "admin", "qa+acme-admin@example.com", "PORTAL_ACME_ADMIN"),
    Account("acme-manager", "acme", "manager", "qa+acme-manager@example.com", "PORTAL_ACME_MANAGER"),
    Account("acme-operator", "acme", "operator", "qa+acme-op@example.com", "PORTAL_ACME_OPERATOR"),
    Account("globex-admin", "globex", "admin", "qa+globex-admin@example.com", "PORTAL_GLOBEX_ADMIN"),
    Account("globex-client", "globex", "client", "qa+globex-client@example.com", "PORTAL_GLOBEX_CLIENT"),
)

# (id, org, name, description): every project of an org carries that org's marker.
PROJECTS: tuple[tuple[str, str, str, str], ...] = (
    ("prj-1001", "acme", "Website relaunch", "Acme relaunch, ref ACME-PROJECT-7731"),
    ("prj-1002", "acme", "Client onboarding", "Acme onboarding, ref ACME-PROJECT-7731/2"),
    ("prj-2001", "globex", "Data migration", "Globex migration, ref GLOBEX-PROJECT-4410"),
    ("prj-2002", "globex", "Annual audit", "Globex audit, ref GLOBEX-PROJECT-4410/2"),
)
OBJECT_IDS = {"acme": "prj-1001", "globex": "prj-2001"}


def generate_passwords() -> dict[str, str]:
    """A fresh random password per account name; the world hands them to tests, never to a file."""
    return {a.name: secrets.token_urlsafe(18) for a in ACCOUNTS}


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS)


@dataclass
class Session:
    id: str
    csrf: str
    created: float
    account: Account | None = None   # None: a pre-login session (the login form's CSRF token)

    def expired(self, now: float, forever: bool) -> bool:
        return not forever and now - self.created > LIFETIME


@dataclass
class Mail:
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class PortalState:
    """Users, projects, sessions, throttle; `mailer(Mail)` is the hook the reset and invite journeys
    will send through (by default mail lands in `outbox`)."""

    def __init__(self, passwords: dict[str, str], mailer: Callable[[Mail], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, tuple[Account, bytes, bytes]] = {}
        for a in ACCOUNTS:
            salt = secrets.token_bytes(16)
            self._users[a.email.lower()] = (a, salt, hash_password(passwords[a.name], salt))
        self._dummy = (secrets.token_bytes(16), secrets.token_bytes(32))
        self.projects: list[dict] = [{"id": i, "org": o, "name": n, "description": d} for i, o, n, d in PROJECTS]
        self.sessions: dict[str, Session] = {}
        self._failures: dict[str, deque[float]] = {}
        self.outbox: list[Mail] = []
        self.mailer = mailer or self.outbox.append

    # ------------------------------------------------------------ accounts

    def known(self, email: str) -> bool:
        return email.strip().lower() in self._users

    def authenticate(self, email: str, password: str) -> Account | None:
        """The account, or None; the same hash cost for an unknown address as for a known one."""
        entry = self._users.get(email.strip().lower())
        salt, digest = (entry[1], entry[2]) if entry else self._dummy
        ok = secrets.compare_digest(hash_password(password, salt), digest)
        return entry[0] if entry and ok else None

    def users_of(self, org: str) -> list[dict]:
        return [{"email": a.email, "role": a.role} for a, _s, _h in self._users.values() if a.org == org]

    # ------------------------------------------------------------ throttle (per submitted address)

    def throttled(self, email: str, now: float) -> bool:
        with self._lock:
            q = self._failures.get(email.strip().lower())
            while q and now - q[0] > THROTTLE_WINDOW:
                q.popleft()
            return bool(q) and len(q) >= THROTTLE_ATTEMPTS

    def record_failure(self, email: str, now: float) -> None:
        with self._lock:
            self._failures.setdefault(email.strip().lower(), deque()).append(now)

    def reset_throttle(self) -> None:
        with self._lock:
            self._failures.clear()

    # ------------------------------------------------------------ sessions

    def new_session(self, account: Account | None = None, sid: str | None = None) -> Session:
        s = Session(sid or secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time(), account)
        with self._lock:
            self.sessions[s.id] = s
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.pop(next(iter(self.sessions)))
        return s

    def session(self, sid: str | None, forever: bool = False) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self.sessions.get(sid)
            if s is not None and s.expired(time.time(), forever):
                del self.sessions[sid]
                return None
            return s

    def destroy(self, sid: str) -> None:
        with self._lock:
            self.sessions.pop(sid, None)

    def login(self, pre: Session | None, account: Account, keep_id: bool) -> Session:
        """The signed-in session: a new id (and CSRF token), the pre-login one destroyed; with
        `keep_id` (the fixation variant) the pre-login id is kept."""
        if pre is not None:
            self.destroy(pre.id)
        return self.new_session(account, sid=pre.id if keep_id and pre is not None else None)

    # ------------------------------------------------------------ projects

    def project(self, pid: str) -> dict | None:
        with self._lock:
            return next((dict(p) for p in self.projects if p["id"] == pid), None)

    def projects_of(self, org: str) -> list[dict]:
        with self._lock:
            return [dict(p) for p in self.projects if p["org"] == org]

    def create_project(self, org: str, name: str) -> dict:
        with self._lock:
            p = {"id": f"prj-{9000 + len(self.projects)}", "org": org, "name": name, "description": ""}
            self.projects.append(p)
            return dict(p)
