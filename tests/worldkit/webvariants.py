"""Web variants of the local HTTPS world (web.py): each is the correct server with ONE weakness, and
`expected_fail` is the verify check id that must FAIL against it (ids are fixed; messages are not).

A variant is data: `knobs` says what differs from the correct server, for nginx (web.py renders the
config) and for the upstream app (webapp.py reads the flags nginx passes it per request).
"legal" is a second correct server whose legal-but-unusual shapes must not alarm any check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT = "contract"  # Knobs.hsts: the contract's own Strict-Transport-Security value


@dataclass(frozen=True)
class Knobs:
    """What a server does; the defaults are the correct server rendered from the launch contract."""

    protocols: str = "TLSv1.2 TLSv1.3"
    ciphers: str | None = None            # None: nginx's default (HIGH:!aNULL:!MD5)
    cert: str = "valid"                   # valid | expired | no-www
    hsts: str | None = CONTRACT           # None: no header; "contract; preload": the contract's value + suffix
    drop_headers: tuple[str, ...] = ()    # contract headers left out
    http_status: int = 301                # http listener -> https
    alias_two_hop: bool = False           # https://www -> http://apex -> https://apex
    redirect_loop: bool = False           # app /dashboard <-> /dashboard/
    redirect_status: tuple[tuple[str, int], ...] = ()  # (legacy from-path, status) overriding the contract
    http2: bool = False
    app: frozenset[str] = frozenset()     # upstream behaviours (webapp.FLAGS)
    delay_ms: int = 0                     # upstream delay on app.example.com /dashboard


@dataclass(frozen=True)
class WebVariant:
    name: str
    expected_fail: str   # the one verify check id that must FAIL
    description: str
    host: str            # the host that shows the weakness
    knobs: Knobs = field(default_factory=Knobs)


def _app(*flags: str) -> frozenset[str]:
    return frozenset(flags)


WEB_VARIANTS: tuple[WebVariant, ...] = (
    WebVariant("tls10", "tls-legacy-protocols", "also offers TLS 1.0 and 1.1 (SECLEVEL=0 so OpenSSL 3 really does)",
               "example.com", Knobs(protocols="TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", ciphers="DEFAULT@SECLEVEL=0")),
    WebVariant("expired", "tls-certificate-expiry", "the certificate expired 10 days ago", "example.com",
               Knobs(cert="expired")),
    WebVariant("www-missing", "tls-certificate-names", "the certificate does not name www.example.com",
               "www.example.com", Knobs(cert="no-www")),
    WebVariant("no-hsts", "hsts-present", "no Strict-Transport-Security header", "example.com", Knobs(hsts=None)),
    WebVariant("short-hsts", "hsts-max-age", "HSTS max-age=300", "example.com", Knobs(hsts="max-age=300")),
    WebVariant("http-302", "https-redirect", "the http listener answers 302, not a permanent redirect",
               "example.com", Knobs(http_status=302)),
    WebVariant("two-hop", "canonical-redirect", "https://www -> http://example.com -> https://example.com",
               "www.example.com", Knobs(alias_two_hop=True)),
    WebVariant("loop", "redirect-loop", "app /dashboard -> /dashboard/ -> /dashboard, forever",
               "app.example.com", Knobs(redirect_loop=True)),
    WebVariant("legacy-status", "legacy-redirects", "/forgot-password answers 302 instead of the declared 308",
               "app.example.com", Knobs(redirect_status=(("/forgot-password", 302),))),
    WebVariant("missing-header", "security-headers", "no X-Content-Type-Options", "example.com",
               Knobs(drop_headers=("X-Content-Type-Options",))),
    WebVariant("cookie-insecure", "cookie-flags", "the __Host- session cookie is set without Secure",
               "app.example.com", Knobs(app=_app("cookie-insecure"))),
    WebVariant("cors-reflect", "cors", "the API reflects any Origin (and null) with credentials",
               "api.example.com", Knobs(app=_app("cors-reflect"))),
    WebVariant("stack-trace", "error-pages", "malformed JSON to /v1/auth/token answers 500 with a traceback",
               "api.example.com", Knobs(app=_app("stack-trace"))),
    WebVariant("dotenv", "sensitive-files", "/.env is served with a database password", "example.com",
               Knobs(app=_app("dotenv"))),
    WebVariant("stripe-bundle", "bundle-secrets", "the JS bundle holds a live Stripe secret key", "example.com",
               Knobs(app=_app("stripe-secret"))),
    WebVariant("mixed-content", "mixed-content", "flow pages load the hero image over http://", "example.com",
               Knobs(app=_app("mixed-content"))),
    WebVariant("latency", "latency-p95", "app.example.com/dashboard answers 600 ms late", "app.example.com",
               Knobs(delay_ms=600)),
)

LEGAL = WebVariant(
    "legal", "", "legal shapes that must not alarm: HSTS preload, CSP meta + header, a non-session cookie "
    "without HttpOnly, 308 http->https, HTTP/2, an SPA catch-all, public keys in the bundle", "example.com",
    Knobs(hsts=CONTRACT + "; preload", http_status=308, http2=True,
          app=_app("csp-meta", "theme-cookie", "spa", "public-keys")))

CORRECT = WebVariant("correct", "", "the launch contract, rendered", "example.com")

VARIANTS_BY_NAME: dict[str, WebVariant] = {v.name: v for v in (CORRECT, LEGAL, *WEB_VARIANTS)}
