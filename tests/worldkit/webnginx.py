"""One private nginx per web variant: own prefix, config, pid, error log and temp dirs, foreground
(`daemon off`) so it is a child we stop by pid; listeners on free ephemeral ports of 127.0.0.1.

Each variant has its own listeners because nginx applies ssl_protocols per listening socket, not per
server block. Security headers are set once per https server block with `always` (so redirects and
errors carry them too); no location sets add_header, since one would drop every inherited header.
`absolute_redirect off` keeps relative Locations relative: otherwise nginx would add the ephemeral
listening port (https://app.example.com:41234/...), which no --connect-to pin covers.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .webvariants import CONTRACT, Knobs

NGINX = "/usr/sbin/nginx"


def nginx_binary() -> str:
    path = shutil.which("nginx") or (NGINX if os.access(NGINX, os.X_OK) else None)
    if not path:
        raise RuntimeError("nginx not found (Debian package 'nginx'); .ci/run installs it")
    return path


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hsts_value(contract: dict) -> str:
    h = contract["tls"]["hsts"]
    return f"max-age={int(h['max_age'])}" + ("; includeSubDomains" if h.get("include_subdomains") else "") + (
        "; preload" if h.get("preload") else "")


@dataclass(frozen=True)
class Site:
    """What the config needs from the launch contract."""

    hosts: tuple[str, ...]
    canonical: str
    alias: str | None
    api_hosts: tuple[str, ...]
    hsts: str
    headers: tuple[tuple[str, str], ...]
    redirects: tuple[tuple[str, str, str, int], ...]  # (from host, from path, to URL without query, status)

    @classmethod
    def of(cls, contract: dict) -> Site:
        redirects = []
        for r in contract["redirects"]:
            src, dst = urlsplit(r["from"]), urlsplit(r["to"])
            if src.hostname == contract.get("aliasHost") and dst.hostname == contract["canonicalHost"] \
                    and src.path == dst.path:
                continue  # the alias itself: www keeps path and query, one hop
            redirects.append((src.hostname, src.path, f"{dst.scheme}://{dst.netloc}{dst.path}", int(r["status"])))
        return cls(hosts=tuple(h["name"] for h in contract["hosts"]), canonical=contract["canonicalHost"],
                   alias=contract.get("aliasHost"), api_hosts=tuple(h["name"] for h in contract["hosts"] if h["api"]),
                   hsts=hsts_value(contract), headers=tuple(contract["headers"].items()), redirects=tuple(redirects))


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _https_headers(site: Site, k: Knobs) -> list[str]:
    out = []
    if k.hsts is not None:
        hsts = k.hsts.replace(CONTRACT, site.hsts) if k.hsts.startswith(CONTRACT) else k.hsts
        out.append(f"add_header Strict-Transport-Security {_q(hsts)} always;")
    out += [f"add_header {name} {_q(value)} always;" for name, value in site.headers if name not in k.drop_headers]
    return out


def _redirects_for(site: Site, host: str, k: Knobs) -> list[str]:
    status_of = dict(k.redirect_status)
    out = []
    for src_host, path, to, status in site.redirects:
        if src_host == host or (host == site.alias and src_host == site.canonical):
            out.append(f"location = {path} {{ return {status_of.get(path, status)} {to}$is_args$args; }}")
    return out


def _locations(site: Site, host: str, k: Knobs) -> list[str]:
    if host == site.alias:
        scheme = "http" if k.alias_two_hop else "https"
        return [*_redirects_for(site, host, k), f"location / {{ return 301 {scheme}://{site.canonical}$request_uri; }}"]
    out = _redirects_for(site, host, k)
    if k.redirect_loop and host.startswith("app."):
        out += ["location = /dashboard { return 302 /dashboard/; }", "location = /dashboard/ { return 302 /dashboard; }"]
    return [*out, "location / { proxy_pass http://portal; }"]


def render_conf(prefix: Path, site: Site, k: Knobs, variant: str, cert: tuple[str, str], upstream_port: int,
                https_port: int, http_port: int, *, extra_http: tuple[str, ...] = (), extra_server: tuple[str, ...] = (),
                locations=None) -> str:
    """The config; `extra_http` lines go in the http block, `extra_server` in every host's server block, and
    `locations(host)` (a list of lines, or None for the default) replaces a served host's `location /`
    (the caching proxy of webcache.py)."""
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would be `nobody`, locked out of prefix
    tmp = {n: prefix / "tmp" / n for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    ssl_listen = f"listen 127.0.0.1:{https_port} ssl{' http2' if k.http2 else ''}"
    headers = _https_headers(site, k)
    flags = ",".join(sorted(k.app))
    lines = [
        "daemon off;", "master_process on;", "worker_processes 1;", user,
        f"pid {prefix / 'nginx.pid'};", f"error_log {prefix / 'error.log'} warn;",
        "events { worker_connections 512; }", "http {",
        "access_log off;", "server_tokens off;", "absolute_redirect off;", "default_type application/octet-stream;",
        *[f"{name}_temp_path {path};" for name, path in tmp.items()],
        f"upstream portal {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}",
        "proxy_http_version 1.1;", 'proxy_set_header Connection "";', "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-Proto https;", f"proxy_set_header X-World-Variant {_q(variant)};",
        f"proxy_set_header X-World-Flags {_q(flags)};", f"proxy_set_header X-World-Delay-Ms {k.delay_ms};",
        "proxy_buffers 32 8k;", *extra_http,
        f"ssl_certificate {cert[0]};", f"ssl_certificate_key {cert[1]};",
        f"ssl_protocols {k.protocols};", *([f"ssl_ciphers {_q(k.ciphers)};"] if k.ciphers else []),
        f"server {{ listen 127.0.0.1:{http_port} default_server; server_name _; "
        f"return {k.http_status} https://$host$request_uri; }}",
        f"server {{ {ssl_listen} default_server; server_name _; {' '.join(headers)} return 421; }}",
    ]
    for host in site.hosts:
        own = locations(host) if locations is not None and host != site.alias else None
        lines += [f"server {{ {ssl_listen}; server_name {host};", *headers, *extra_server,
                  *(_locations(site, host, k) if own is None else [*_redirects_for(site, host, k), *own]), "}"]
    return "\n".join([*lines, "}"]) + "\n"


class Nginx:
    """A running private nginx; `start` retries on a port race (a free port taken before nginx binds it)."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.proc: subprocess.Popen | None = None
        self.https_port = self.http_port = 0

    def start(self, render, timeout: float = 5.0) -> Nginx:
        """`render(https_port, http_port) -> conf text`."""
        for sub in ("tmp", "logs"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        last = ""
        for _attempt in range(3):
            self.https_port, self.http_port = free_tcp_port(), free_tcp_port()
            conf = self.prefix / "nginx.conf"
            conf.write_text(render(self.https_port, self.http_port))
            self.proc = subprocess.Popen(
                [nginx_binary(), "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)  # its own process group: a last-resort kill reaches the workers too
            if self._wait_ready(timeout):
                return self
            last = self.error_log()
            self.stop()
        raise RuntimeError(f"nginx did not start in {self.prefix}: {last}")

    def _wait_ready(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            if all(_accepts(p) for p in (self.https_port, self.http_port)):
                return True
            time.sleep(0.005)
        return False

    def error_log(self, n: int = 3000) -> str:
        try:
            return (self.prefix / "error.log").read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def terminate(self) -> None:
        """SIGTERM (nginx's fast shutdown: the master takes its workers down); `stop` waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
