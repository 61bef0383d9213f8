"""The portal world: the reference client portal (portalapp.py), one instance per variant
(portalvariants.py), each behind its own private nginx with TLS from the web world's test CA
(webnginx.py, webcerts.py), all on 127.0.0.1; app.example.com and api.example.com of the example stack.

The world writes its stack file at start: the example stack plus a `launchready:portal` section that
describes this portal (PORTAL_SECTION), to <tmpdir>/stacks/Pulumi.portal.yaml. Passwords are random
per world, never written anywhere: the spec names environment variables, `srv.env()` holds the values.

    def test_something(portal_world, monkeypatch):       # session fixture (import it in a conftest)
        srv = portal_world.server("tenant-idor")         # started on first use (~30 ms)
        for k, v in srv.env().items():                   # {"PORTAL_ACME_ADMIN": "<random>", ...}
            monkeypatch.setenv(k, v)
        audit(spec=srv.spec(), connect_to=srv.pins(), ca_file=srv.ca_file)   # or:
        run_cli(["verify", "--stack", str(srv.stack_path), *srv.verify_args()])
        r = request(srv, "GET", "https://api.example.com/api/me")   # httpx, pinned, SNI + Host, CA-verified
        srv.passwords["acme-admin"], srv.account("acme-admin").email, srv.reset_throttle()
"""
from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .portalapp import PortalApp, PortalHTTP
from .portaldata import (
    ACCOUNTS,
    OBJECT_IDS,
    ORGS,
    THROTTLE_ATTEMPTS,
    THROTTLE_WINDOW,
    Account,
    PortalState,
    generate_passwords,
)
from .portalvariants import VARIANTS_BY_NAME, PortalVariant
from .web import WebServer
from .webcerts import TestCA
from .webnginx import Nginx, Site, render_conf
from .webvariants import Knobs

REPO = Path(__file__).resolve().parents[2]
STACK = "portal"


def portal_section(allow_active: bool = True, extra: str = "") -> str:
    """The `launchready:portal` section (YAML, indented under `config:`) describing the reference portal."""
    orgs = "\n".join(f"      - {{name: {o.name}, marker: {o.marker}}}" for o in ORGS)
    accounts = "\n".join(f"      - {{name: {a.name}, org: {a.org}, role: {a.role}, username: \"{a.email}\", "
                         f"passwordEnv: {a.password_env}}}" for a in ACCOUNTS)
    ids = ", ".join(f"{org}: {pid}" for org, pid in OBJECT_IDS.items())
    return f"""
  # -- the client portal's own journeys (verify's portal checks); passwords come from the environment --
  launchready:portal:
    baseUrl: https://app.example.com
    apiBaseUrl: https://api.example.com
    session:
      kind: form
      loginPath: /login
      usernameField: email
      passwordField: password
      csrfField: csrf_token
      csrfHeader: X-CSRF-Token
      logoutPath: /logout
      whoamiPath: /api/me
      lifetime: 28800
    orgs:
{orgs}
    accounts:
{accounts}
    objects:
      - path: /api/projects/{{id}}
        ids: {{{ids}}}
    lists: [/api/projects]
    adminPaths: [/api/admin/users]
    adminRoles: [admin]
    csrf:
      - {{method: POST, path: /api/projects, body: {{name: launchready-probe}}}}
    flows: [/dashboard, /api/projects]
    loginThrottle: {{attempts: {THROTTLE_ATTEMPTS}, window: {THROTTLE_WINDOW}}}
    allowActiveInProduction: {"true" if allow_active else "false"}
""" + extra


def write_stack(stacks_dir: Path, allow_active: bool = True, base: Path | None = None, extra: str = "") -> Path:
    """<stacks_dir>/Pulumi.portal.yaml: the example stack (`base`) with the portal section appended.
    The example declares `environment: production`, hence allowActiveInProduction (verify --active)."""
    stacks_dir.mkdir(parents=True, exist_ok=True)
    text = (base or REPO / "stacks" / "Pulumi.example.yaml").read_text(encoding="utf-8")
    path = stacks_dir / f"Pulumi.{STACK}.yaml"
    path.write_text(text.rstrip("\n") + "\n" + portal_section(allow_active, extra), encoding="utf-8")
    return path


@dataclass
class PortalServer(WebServer):
    """One running portal variant behind its nginx; pins, CA and verify_args as WebServer's."""

    portal: PortalHTTP | None = None
    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    stack_path: Path | None = None
    stacks_dir: Path | None = None
    world: PortalWorld | None = field(default=None, repr=False)
    extra_pins: dict = field(default_factory=dict)    # e.g. the mail world's IMAPS host
    extra_env: dict = field(default_factory=dict, repr=False)

    def env(self) -> dict[str, str]:
        """{passwordEnv name: password} of every test account, for os.environ (monkeypatch.setenv)."""
        return {**{a.password_env: self.passwords[a.name] for a in ACCOUNTS}, **self.extra_env}

    def pins(self) -> dict[tuple[str, int], tuple[str, int]]:
        return {**super().pins(), **self.extra_pins}

    def connect_to(self) -> list[str]:
        return [*super().connect_to(), *(f"{h}:{p}:{a}:{lp}" for (h, p), (a, lp) in self.extra_pins.items())]

    @staticmethod
    def account(name: str) -> Account:
        return next(a for a in ACCOUNTS if a.name == name)

    def spec(self):
        """The parsed Spec of the world's stack file (parse_spec(read_stack_file(stack_path)))."""
        return self.world.spec

    @property
    def state(self) -> PortalState:
        return self.portal.app.state

    def requests(self, host: str | None = None, path: str | None = None) -> int:
        return self.portal.count(host, path) if self.portal else 0

    def reset_throttle(self) -> None:
        self.state.reset_throttle()


class PortalWorld:
    """Starts the CA and, per variant on first use, a portal app and its nginx; a context manager."""

    variants: dict[str, PortalVariant] = VARIANTS_BY_NAME

    def __init__(self, tmpdir: Path, allow_active: bool = True, extra_section: str = "") -> None:
        from infra.contract import build_contract
        from infra.spec import parse_spec, read_stack_file

        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.stacks_dir = self.tmpdir / "stacks"
        self.stack_path = write_stack(self.stacks_dir, allow_active, extra=extra_section)
        self.spec = parse_spec(read_stack_file(self.stack_path))
        self.contract = build_contract(self.spec)
        self.site = Site.of(self.contract)
        self.passwords = generate_passwords()
        self._lock = threading.RLock()
        self._ca: TestCA | None = None
        self._cert: tuple[str, str] | None = None
        self._servers: dict[str, tuple[PortalServer, Nginx]] = {}
        atexit.register(self.stop)

    @property
    def ca(self) -> TestCA:
        with self._lock:
            if self._ca is None:
                self._ca = TestCA(self.tmpdir)
                self._cert = self._ca.write_leaf("valid", self.site.hosts, self.site.canonical, self.site.alias,
                                                 self.tmpdir)
            return self._ca

    @property
    def ca_file(self) -> str:
        return self.ca.ca_file

    def env(self) -> dict[str, str]:
        return {a.password_env: self.passwords[a.name] for a in ACCOUNTS}

    def server(self, variant: str) -> PortalServer:
        """The variant's portal (portalvariants.VARIANTS_BY_NAME), started on first use."""
        v: PortalVariant = self.variants[variant]
        with self._lock:
            if variant not in self._servers:
                ca_file = self.ca_file
                portal = PortalHTTP(self.make_app(v), variant)
                prefix = self.tmpdir / f"nginx-portal-{variant}"
                try:
                    nginx = Nginx(prefix).start(lambda https, http: render_conf(
                        prefix, self.site, Knobs(), f"portal-{variant}", self._cert, portal.port, https, http))
                except BaseException:
                    portal.stop()
                    raise
                srv = PortalServer(variant, nginx.https_port, nginx.http_port, ca_file, self.site.hosts,
                                   workdir=prefix, _stop=nginx.stop, portal=portal, passwords=self.passwords,
                                   stack_path=self.stack_path, stacks_dir=self.stacks_dir, world=self)
                srv.variant = v  # a PortalVariant (WebServer's field is typed for web variants)
                self.on_server(srv)
                self._servers[variant] = (srv, nginx)
            return self._servers[variant][0]

    def make_app(self, v: PortalVariant) -> PortalApp:
        """The variant's app (the mail world, portalmail.py, makes one that sends mail)."""
        return PortalApp(PortalState(self.passwords), v.flags)

    def on_server(self, srv: PortalServer) -> None:
        """A hook for worlds built on this one: add pins and environment to a new server."""

    def running(self) -> list[str]:
        return list(self._servers)

    def stop(self) -> None:
        with self._lock:
            for _srv, nginx in self._servers.values():
                nginx.terminate()  # all at once, then wait for each
            for srv, _nginx in self._servers.values():
                srv.stop()
                srv.portal.stop()
            self._servers.clear()

    def __enter__(self) -> PortalWorld:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def portal_world(tmp_path_factory):
    """The session's PortalWorld: `portal_world.server("correct")`, `portal_world.server("fixation")`, ..."""
    from .webnginx import nginx_binary

    try:
        nginx_binary()
    except RuntimeError as e:
        pytest.fail(str(e))
    with PortalWorld(tmp_path_factory.mktemp("portal-world")) as w:
        yield w
