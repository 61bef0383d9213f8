"""The web world proves itself before verify's checks are judged against it: with plain ssl/httpx
(pinned to 127.0.0.1, SNI + Host, verified against the world CA) each variant shows its one weakness,
the correct and the legal servers show none, and the ERROR servers really cannot be talked to."""
from __future__ import annotations

import json
import os
import re
import socket
import ssl
import time
import warnings
import zlib
from pathlib import Path

import pytest
from worldkit.web import WebWorld, broken_handshake_server, closed_port_server
from worldkit.web import request as pinned_request
from worldkit.webapp import ASSET_JS, ASSET_PNG, SESSION_COOKIE
from worldkit.webvariants import WEB_VARIANTS

pytestmark = pytest.mark.world

SENSITIVE = ("/.env", "/.git/config", "/.git/HEAD", "/server-status", "/nginx_status", ASSET_JS + ".map")
STRIPE_SECRET = re.compile("sk" + r"_live_[0-9a-zA-Z]{24,}")  # split: the repo's own scan reads this file


def request(srv, method, url, **kw):
    """HTTP probes look past the certificate variants (the TLS probes verify on their own)."""
    kw.setdefault("verify", srv.variant is None or srv.variant.knobs.cert == "valid")
    return pinned_request(srv, method, url, **kw)


def _ctx(srv, **kw) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    ctx.hostname_checks_common_name = False  # names from the SAN only, as browsers do
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def handshake(srv, host="example.com", ctx=None) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", srv.https_port), timeout=3)
    try:
        return (ctx or _ctx(srv)).wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _legacy_ctx(srv, version: ssl.TLSVersion) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = _ctx(srv)
        ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")  # else Debian's OpenSSL refuses TLS 1.0 locally, before asking
    return ctx


def _verify_code(srv, host="example.com") -> int:
    try:
        handshake(srv, host).close()
    except ssl.SSLCertVerificationError as e:
        return e.verify_code
    return 0


# ----------------------------------------------------------------- one probe per weakness: True = present

def _offers_tls10(srv) -> bool:
    try:
        with handshake(srv, ctx=_legacy_ctx(srv, ssl.TLSVersion.TLSv1)) as s:
            return s.version() == "TLSv1"
    except ssl.SSLError:
        return False


def _cookie(srv, name=SESSION_COOKIE) -> str:
    r = request(srv, "GET", "https://app.example.com/login")
    return next(c for c in r.headers.get_list("set-cookie") if c.startswith(name + "="))


def _redirect_mismatch(srv, contract) -> bool:
    """A legacy redirect (not the alias www -> apex one, canonical-redirect's) answers another status or target."""
    alias = f"https://{contract['aliasHost']}/"
    for red in contract["redirects"]:
        if red["from"].startswith(alias) and red["to"] == red["from"].replace(alias, f"https://{contract['canonicalHost']}/"):
            continue
        r = request(srv, "GET", red["from"])
        if (r.status_code, r.headers.get("location")) != (red["status"], red["to"]):
            return True
    return False


def _loops(srv) -> bool:
    url, seen = "https://app.example.com/dashboard", set()
    for _ in range(6):
        r = request(srv, "GET", url)
        if r.status_code not in (301, 302, 307, 308):
            return False
        if url in seen:
            return True
        seen.add(url)
        loc = r.headers["location"]
        url = loc if loc.startswith("http") else "https://app.example.com" + loc
    return True


def _reflects_origin(srv) -> bool:
    for origin in ("https://evil.example.net", "null"):
        r = request(srv, "GET", "https://api.example.com/v1/health", headers={"Origin": origin})
        if "access-control-allow-origin" in r.headers:
            return True
    return False


def _dotenv_served(srv) -> bool:
    r = request(srv, "GET", "https://example.com/.env")
    return r.status_code == 200 and re.search(r"(?m)^DATABASE_URL=\w+://\w+:[^@\s]+@", r.text) is not None


def _slow_dashboard(srv) -> bool:
    start = time.monotonic()
    request(srv, "GET", "https://app.example.com/dashboard")
    return time.monotonic() - start >= 0.5


def _headers_of(srv, url="https://example.com/"):
    return request(srv, "GET", url).headers


PROBES = {
    "tls-legacy-protocols": lambda srv, c: _offers_tls10(srv),
    "tls-certificate-expiry": lambda srv, c: _verify_code(srv) == 10,
    "tls-certificate-names": lambda srv, c: _verify_code(srv, "www.example.com") == 62,
    "hsts-present": lambda srv, c: "strict-transport-security" not in _headers_of(srv),
    "hsts-max-age": lambda srv, c: "max-age=300" in _headers_of(srv).get("strict-transport-security", ""),
    "https-redirect": lambda srv, c: request(srv, "GET", "http://example.com/x?y=1").status_code not in (301, 308),
    "canonical-redirect": lambda srv, c: request(srv, "GET", "https://www.example.com/x?y=1").headers.get(
        "location") != "https://example.com/x?y=1",
    "redirect-loop": lambda srv, c: _loops(srv),
    "legacy-redirects": _redirect_mismatch,
    "security-headers": lambda srv, c: any(h not in _headers_of(srv) for h in c["headers"]),
    "cookie-flags": lambda srv, c: "Secure" not in _cookie(srv),
    "cors": lambda srv, c: _reflects_origin(srv),
    "error-pages": lambda srv, c: "Traceback" in request(srv, "POST", "https://api.example.com/v1/auth/token",
                                                         content=b"{not json").text,
    "sensitive-files": lambda srv, c: _dotenv_served(srv),
    "bundle-secrets": lambda srv, c: STRIPE_SECRET.search(request(srv, "GET", "https://example.com" + ASSET_JS).text)
    is not None,
    "mixed-content": lambda srv, c: 'src="http://' in request(srv, "GET", "https://example.com/").text,
    "latency-p95": lambda srv, c: _slow_dashboard(srv),
}


def test_every_variant_has_a_probe_and_a_unique_name():
    assert {v.expected_fail for v in WEB_VARIANTS} == set(PROBES)
    assert len({v.name for v in WEB_VARIANTS}) == len(WEB_VARIANTS)


@pytest.mark.parametrize("variant", WEB_VARIANTS, ids=lambda v: v.name)
def test_each_variant_shows_exactly_its_weakness(web_world, variant):
    srv = web_world.server(variant.name)
    shown = {cid for cid, probe in PROBES.items() if probe(srv, web_world.contract)}
    assert shown == {variant.expected_fail}


@pytest.mark.parametrize("name", ["correct", "legal"])
def test_correct_and_legal_servers_show_no_weakness(web_world, name):
    srv = web_world.server(name)
    assert {cid for cid, probe in PROBES.items() if probe(srv, web_world.contract)} == set()


# ----------------------------------------------------------------- the correct server, in detail

def test_correct_certificate_passes_a_strict_verifier(web_world):
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store

    srv = web_world.server("correct")
    store = Store(x509.load_pem_x509_certificates(Path(srv.ca_file).read_bytes()))
    for host in srv.hosts:
        with handshake(srv, host) as s:
            leaf = x509.load_der_x509_certificate(s.getpeercert(binary_form=True))
            assert s.version() in ("TLSv1.2", "TLSv1.3")
        PolicyBuilder().store(store).build_server_verifier(x509.DNSName(host)).verify(leaf, [])
    with pytest.raises(ssl.SSLError):
        handshake(srv, ctx=_legacy_ctx(srv, ssl.TLSVersion.TLSv1_1)).close()


def test_correct_headers_on_every_https_response_and_none_on_http(web_world):
    srv, c = web_world.server("correct"), web_world.contract
    for url in ("https://example.com/", "https://www.example.com/a", "https://example.com/nope",
                "https://api.example.com/v1/health"):
        h = request(srv, "GET", url).headers
        assert h["strict-transport-security"] == "max-age=31536000; includeSubDomains", url
        assert all(h.get(k) == v for k, v in c["headers"].items()), url
    assert "strict-transport-security" not in request(srv, "GET", "http://app.example.com/").headers
    assert request(srv, "GET", "http://app.example.com/login?a=1").headers["location"] == \
        "https://app.example.com/login?a=1"


def test_correct_pages_assets_and_cookie(web_world):
    srv = web_world.server("correct")
    for host, path in (("example.com", "/"), ("example.com", "/login"), ("app.example.com", "/password/reset"),
                       ("app.example.com", "/invite/accept"), ("app.example.com", "/dashboard")):
        r = request(srv, "GET", f"https://{host}{path}")
        assert r.status_code == 200 and ASSET_JS in r.text and ASSET_PNG in r.text, (host, path)
    cookie = _cookie(srv)
    assert all(f in cookie for f in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"))
    png = request(srv, "GET", "https://example.com" + ASSET_PNG)
    assert png.headers["content-type"] == "image/png" and 35_000 < len(png.content) < 60_000
    assert len(zlib.compress(png.content)) > 0.95 * len(png.content)  # high entropy: an LCP candidate
    assert request(srv, "GET", "https://example.com/assets/app.3f9a1c2b.css").status_code == 200


def test_correct_api_and_error_shapes(web_world):
    srv = web_world.server("correct")
    api = "https://api.example.com"
    assert request(srv, "GET", api + "/v1/health").headers["content-type"] == "application/json"
    bad = request(srv, "POST", api + "/v1/auth/token", content=b"{not json",
                  headers={"Content-Type": "application/json"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid JSON"})
    assert request(srv, "GET", api + "/v1/auth/token").status_code == 405
    ok = request(srv, "GET", api + "/v1/health", headers={"Origin": "https://app.example.com"}).headers
    assert ok["access-control-allow-origin"] == "https://app.example.com"
    assert ok["access-control-allow-credentials"] == "true" and "Origin" in ok["vary"]
    assert request(srv, "DELETE", "https://example.com/").status_code == 405
    assert [request(srv, "GET", "https://example.com" + p).status_code for p in SENSITIVE] == [404] * len(SENSITIVE)
    assert STRIPE_SECRET.search(request(srv, "GET", "https://example.com" + ASSET_JS).text) is None


def test_upstream_is_shared_and_counts_requests(web_world):
    srv = web_world.server("correct")
    before = srv.requests("api.example.com", "/v1/health")
    request(srv, "GET", "https://api.example.com/v1/health")
    assert srv.requests("api.example.com", "/v1/health") == before + 1
    assert web_world.server("no-hsts").upstream is srv.upstream


# ----------------------------------------------------------------- legal shapes, and the variants in detail

def test_legal_shapes_are_really_there(web_world):
    srv = web_world.server("legal")
    assert request(srv, "GET", "https://example.com/").headers["strict-transport-security"].endswith("; preload")
    assert request(srv, "GET", "http://example.com/x").status_code == 308
    page = request(srv, "GET", "https://app.example.com/login")
    assert 'http-equiv="Content-Security-Policy"' in page.text and "content-security-policy" in page.headers
    assert any(c.startswith("theme=dark;") and "HttpOnly" not in c for c in page.headers.get_list("set-cookie"))
    assert _alpn(srv) == "h2" and _alpn(web_world.server("correct")) == "http/1.1"
    env = request(srv, "GET", "https://example.com/.env")
    assert env.status_code == 200 and env.text.startswith("<!doctype html>")
    assert request(srv, "GET", "https://example.com" + ASSET_JS + ".map").status_code == 404
    js = request(srv, "GET", "https://example.com" + ASSET_JS).text
    jwt = re.search(r'"(eyJ[\w-]+\.(eyJ[\w-]+)\.[\w-]+)"', js).group(2)
    assert json.loads(_b64(jwt))["role"] == "anon" and "pk_live_" in js


def _alpn(srv) -> str | None:
    """The protocol the TLS listener picks from h2 and http/1.1 (plain ssl: the h2 package is optional)."""
    ctx = _ctx(srv)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with handshake(srv, ctx=ctx) as s:
        return s.selected_alpn_protocol()


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_tls10_variant_negotiates_tls10_and_tls11(web_world):
    srv = web_world.server("tls10")
    for version, name in ((ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")):
        with handshake(srv, ctx=_legacy_ctx(srv, version)) as s:
            assert s.version() == name


def test_stack_trace_and_cors_variants_in_detail(web_world):
    r = request(web_world.server("stack-trace"), "POST", "https://api.example.com/v1/auth/token", content=b"{")
    assert r.status_code == 500 and "/srv/portal/app/views.py" in r.text
    srv = web_world.server("cors-reflect")
    for origin in ("https://evil.example.net", "null"):
        h = request(srv, "GET", "https://api.example.com/v1/health", headers={"Origin": origin}).headers
        assert (h["access-control-allow-origin"], h["access-control-allow-credentials"]) == (origin, "true")


def _p95(srv, n: int = 20) -> float:
    times = []
    for _ in range(n):
        start = time.monotonic()
        request(srv, "GET", "https://app.example.com/dashboard")
        times.append(time.monotonic() - start)
    return sorted(times)[int(0.95 * (n - 1))] * 1000


def test_latency_injection_is_measured_as_injected(web_world):
    assert _p95(web_world.server("correct")) < 100  # no Nagle stall: fast when nothing is injected
    p95 = _p95(web_world.server("latency", delay_ms=200), n=10)
    assert 200 <= p95 < 300, p95


# ----------------------------------------------------------------- ERROR servers and lifecycle

def test_closed_port_refuses(web_world):
    srv = closed_port_server(web_world.ca_file)
    with pytest.raises(ConnectionRefusedError):
        handshake(srv)
    assert len(srv.connect_to()) == 8 and srv.connect_to()[0] == f"example.com:443:127.0.0.1:{srv.https_port}"


@pytest.mark.parametrize("mode", ["plain-http", "close"])
def test_broken_handshake_fails_before_any_certificate(web_world, mode):
    srv = broken_handshake_server(web_world.ca_file, mode=mode)
    try:
        with pytest.raises((ssl.SSLError, ConnectionError)) as err:
            handshake(srv).close()
        assert not isinstance(err.value, ssl.SSLCertVerificationError)
    finally:
        srv.stop()


def test_world_starts_fast_and_stops_clean(tmp_path):
    start = time.monotonic()
    with WebWorld(tmp_path) as w:
        srv = w.server("correct")
        w.server("tls10")
        elapsed = time.monotonic() - start
        pids = [int((tmp_path / f"nginx-{n}" / "nginx.pid").read_text()) for n in ("correct", "tls10")]
        assert request(srv, "GET", "https://example.com/").status_code == 200
    assert elapsed < 2.0, elapsed
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
