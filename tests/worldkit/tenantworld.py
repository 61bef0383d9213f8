"""A local world for verify's tenant sweep: the example stack plus two tenant groups, its zone in a private
knotd and its tenant hosts behind one private nginx, all on 127.0.0.1.

- `clients`: a proxied wildcard group `*.portal.example.com` (CNAME portal-lb.example.net) with N known
  tenants and one exception (`admin`, a TXT marker); the zone answers Cloudflare edge addresses for it.
- `partners`: an explicit DNS-only group of 5 tenants `partnerN.example.com` (A 203.0.113.30).

nginx serves every name with one server block (`server_name *.portal.example.com *.example.com`) and a
certificate from the world CA covering `portal.example.com, *.portal.example.com, *.example.com`, so one
curl-style empty-host pin (`:443:127.0.0.1:PORT`) aims verify at it for every host. Variants:
  web  `bad-cert` (one tenant presents a certificate for another name), `502` (one tenant answers 502)
  dns  `missing-record` (one explicit tenant's A is gone), `exception-resolves` (the marker is gone)
The benchmark (benchmarks/bench_verify_tenants.py) builds the same world with thousands of tenants.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from .knot import KnotServer
from .webcerts import TestCA
from .webnginx import Nginx, free_tcp_port
from .world import CF_A, CF_AAAA, Zone

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "example.com"
WILD = "portal.example.com"
HSTS = "max-age=31536000; includeSubDomains"
WEB_VARIANTS = ("correct", "bad-cert", "502")
DNS_VARIANTS = ("correct", "missing-record", "exception-resolves")


def tenant_spec(tenants: int = 30, partners: int = 5, sample: int = 2):
    """The example stack with the two tenant groups (Spec)."""
    from infra.spec import Spec, load_stack

    data = json.loads(json.dumps(load_stack("example", REPO / "stacks").model_dump(by_alias=True, mode="json",
                                                                                    exclude_none=True)))
    data["tenantGroups"] = [
        {"name": "clients", "domain": WILD, "origin": "portal-lb.example.net", "wildcard": True,
         "tenants": [f"tenant{i:05d}" for i in range(tenants)], "except": ["admin"], "sample": sample,
         "flows": {"login": "/login"}},
        {"name": "partners", "domain": DOMAIN, "origin": "203.0.113.30", "proxied": False,
         "tenants": [f"partner{i}" for i in range(partners)]},
    ]
    return Spec.model_validate(data)


def tenant_zone(contract: dict, variant: str = "correct") -> Zone:
    """The zone a correct `pulumi up` leaves for the tenant groups (proxied: edge addresses), one change per variant."""
    z = Zone(DOMAIN)
    for r in contract["records"]:
        if not str(r["source"]).startswith("tenantGroups"):
            continue
        name, rtype, content = r["name"], r["type"], str(r["content"])
        if r["proxied"]:
            z.add(name, "A", CF_A)
            z.add(name, "AAAA", CF_AAAA)
        elif rtype == "TXT":
            z.add(name, "TXT", json.dumps(content))
        else:
            z.add(name, rtype, content.rstrip(".") + ("." if rtype == "CNAME" else ""))
    if variant == "missing-record":
        assert z.drop(lambda r: r[0] == f"partner3.{DOMAIN}." and r[2] == "A") == 1
    elif variant == "exception-resolves":
        assert z.drop(lambda r: r[0] == f"admin.{WILD}." and r[2] == "TXT") == 1
    elif variant != "correct":
        raise ValueError(variant)
    return z


def _conf(prefix: Path, https_port: int, http_port: int, certs: dict[str, tuple[str, str]], variant: str,
          odd_host: str) -> str:
    add = f'add_header Strict-Transport-Security "{HSTS}" always;'
    lines = ["daemon off;", "master_process on;", "worker_processes 2;", f"pid {prefix / 'nginx.pid'};",
             f"error_log {prefix / 'error.log'} warn;", "events { worker_connections 1024; }", "http {",
             "access_log off;", "server_tokens off;", "keepalive_requests 10000;",
             *[f"{n}_temp_path {prefix / 'tmp' / n};" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")],
             f"ssl_certificate {certs['valid'][0]};", f"ssl_certificate_key {certs['valid'][1]};",
             "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_session_cache shared:tenants:10m;",
             f"server {{ listen 127.0.0.1:{http_port}; return 301 https://$host$request_uri; }}",
             f"server {{ listen 127.0.0.1:{https_port} ssl default_server; server_name *.{WILD} *.{DOMAIN}; {add} "
             'location / { default_type text/plain; return 200 "tenant portal\\n"; } }']
    if variant == "bad-cert":
        lines.append(f"server {{ listen 127.0.0.1:{https_port} ssl; server_name {odd_host}; "
                     f"ssl_certificate {certs['other'][0]}; ssl_certificate_key {certs['other'][1]}; {add} "
                     'location / { return 200 "ok\\n"; } }')
    elif variant == "502":
        lines.append(f"server {{ listen 127.0.0.1:{https_port} ssl; server_name {odd_host}; {add} "
                     "location / { return 502; } }")
    elif variant != "correct":
        raise ValueError(variant)
    return "\n".join([*lines, "}"]) + "\n"


@dataclass
class TenantWorld:
    """Lazily started knotds (one per DNS variant) and nginxes (one per web variant); `stop()` ends them."""

    workdir: Path
    tenants: int = 30
    odd_host: str = f"tenant00007.{WILD}"   # the one tenant a web variant breaks

    def __post_init__(self) -> None:
        from infra.contract import build_contract
        from verify.expectations import from_spec

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.spec = tenant_spec(self.tenants)
        self.contract = build_contract(self.spec)
        self.exp = from_spec(self.spec, stack="tenants")
        self.ca = TestCA(self.workdir)
        self._knots: dict[str, KnotServer] = {}
        self._webs: dict[str, Nginx] = {}
        self._certs: dict[str, tuple[str, str]] = {}

    def _cert(self, mode: str) -> tuple[str, str]:
        if mode not in self._certs:
            now = dt.datetime.now(dt.UTC)
            names = (WILD, f"*.{WILD}", f"*.{DOMAIN}") if mode == "valid" else ("other.example.net",)
            chain, key = self.ca.leaf(names, now - dt.timedelta(days=1), now + dt.timedelta(days=90))
            cert, keyfile = self.workdir / f"tenant-{mode}.pem", self.workdir / f"tenant-{mode}.key"
            cert.write_bytes(chain)
            keyfile.write_bytes(key)
            keyfile.chmod(0o600)
            self._certs[mode] = (str(cert), str(keyfile))
        return self._certs[mode]

    def nameserver(self, variant: str = "correct") -> tuple[str, int]:
        if variant not in self._knots:
            zone = tenant_zone(self.contract, variant)
            self._knots[variant] = KnotServer(self.workdir / f"knot-{variant}", {DOMAIN: zone.text()}).start()
        return ("127.0.0.1", self._knots[variant].port)

    def https_port(self, variant: str = "correct") -> int:
        if variant not in self._webs:
            prefix = self.workdir / f"nginx-{variant}"
            certs = {"valid": self._cert("valid"), "other": self._cert("other")}
            self._webs[variant] = Nginx(prefix).start(lambda https, http: _conf(prefix, https, http, certs, variant,
                                                                                 self.odd_host))
        return self._webs[variant].https_port

    def pins(self, variant: str = "correct", closed: bool = False) -> dict[tuple[str, int], tuple[str, int]]:
        """One empty-host pin (curl's `:443:127.0.0.1:PORT`) for every tenant host."""
        return {("", 443): ("127.0.0.1", free_tcp_port() if closed else self.https_port(variant))}

    @property
    def ca_file(self) -> str:
        return self.ca.ca_file

    def stop(self) -> None:
        for n in self._webs.values():
            n.terminate()
        for n in self._webs.values():
            n.stop()
        for k in self._knots.values():
            k.stop()
        self._webs.clear()
        self._knots.clear()
