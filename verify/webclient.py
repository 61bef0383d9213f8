"""The web client every TLS and HTTP probe uses: where to connect, how to trust, what came back.

Names are never resolved through the system resolver when a pin (`--connect-to HOST:PORT:ADDR:PORT`)
or a nameserver (`--nameserver`) covers them: a pin wins, else the DnsClient answers (A, then AAAA,
following CNAMEs), else (no --nameserver given: an ordinary run against production) the system
resolver. Every connection carries the real SNI and Host header.

A response whose certificate does not verify is fetched again without verification and marked
(`tls_verified=False`, with the reason): the TLS checks judge the certificate, and the HTTP checks
still judge the headers, cookies and redirects behind it (one fault, one finding).
"""
from __future__ import annotations

import contextlib
import functools
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from .dnsclient import DnsClient

PAGE_BYTES = 512 * 1024          # a page, an error page, a sensitive-file probe
BUNDLE_BYTES = 8 * 1024 * 1024   # a JavaScript bundle
USER_AGENT = "launchready-verify/1 (+post-deploy audit)"


ANY_HOST, ANY_PORT = "", 0   # curl's empty HOST or PORT in --connect-to: matches any


def pin_for(pins: dict[tuple[str, int], tuple[str, int]], host: str, port: int) -> tuple[str, int] | None:
    """The --connect-to pin that applies to host:port: an exact one first, then curl's empty-host and
    empty-port forms. None: not pinned."""
    if not pins:
        return None
    host = host.lower().rstrip(".")
    for k in ((host, port), (host, ANY_PORT), (ANY_HOST, port), (ANY_HOST, ANY_PORT)):
        hit = pins.get(k)
        if hit is not None:
            return hit
    return None


class WebError(Exception):
    """A host could not be reached or answered nothing usable: a could-not-check, never a verdict."""


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]   # (lower-case name, value), in order, repeats kept
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    http_version: str = ""
    address: str = ""
    tls_verified: bool | None = None       # None: plain http
    tls_problem: str = ""

    def header(self, name: str) -> str | None:
        """The first value of a header (names are case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def location(self) -> str | None:
        return self.header("location")

    @property
    def redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and bool(self.location)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class PeerFetch:
    """A response and the certificate of the connection it came over (WebClient.fetch_peer)."""

    response: HttpResponse
    der: bytes                     # the leaf the server presented (empty if the stream did not say)
    protocol: str
    verified: bool = True          # the chain verified (response.tls_verified says the same)
    verify_code: int | None = None  # why it did not
    verify_message: str = ""


@dataclass
class WebClient:
    dns: DnsClient
    timeout: float = 5.0
    ssl_context: ssl.SSLContext | None = None   # None: the system's trust store
    connect_to: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    _system: ssl.SSLContext | None = field(default=None, repr=False)
    _chain_ctx: ssl.SSLContext | None = field(default=None, repr=False)   # verify.tlsclient's, built once

    # ------------------------------------------------------------------ where to connect
    def address(self, host: str, port: int) -> tuple[str, int]:
        """(ip, port) for host:port: the pin, else our DNS answer, else the system resolver."""
        host = host.lower().rstrip(".")
        pinned = self.pinned(host, port)
        if pinned:
            return pinned
        if _is_ip(host):
            return host, port
        if not self.dns.nameservers:
            try:
                info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as e:
                raise WebError(f"resolving {host}: {e}") from None
            return str(info[0][4][0]), port
        failures = []
        for rdtype in ("A", "AAAA"):
            ans = self.dns.query(host, rdtype)
            if ans.status == "ok" and ans.records:
                return str(ans.records[0]), port
            failures.append(f"{rdtype}: {ans.failure or ans.status}")
        raise WebError(f"{host} has no address through {', '.join(self.dns.describe())} ({'; '.join(failures)})")

    def pinned(self, host: str, port: int) -> tuple[str, int] | None:
        """The --connect-to pin for host:port (exact, or curl's empty-host / empty-port form), or None."""
        return pin_for(self.connect_to, host, port)

    def trust(self) -> ssl.SSLContext:
        """--ca-file's context, else the system store (loaded once: it costs ~50 ms each time)."""
        if self.ssl_context is not None:
            return self.ssl_context
        if self._system is None:
            self._system = ssl.create_default_context()
        return self._system

    # ------------------------------------------------------------------ HTTP
    def fetch(self, method: str, url: str, *, headers: tuple[tuple[str, str], ...] = (), body: bytes | None = None,
              max_bytes: int = PAGE_BYTES, credentials: bool = False) -> HttpResponse:
        """One request, no redirect followed, body read up to max_bytes. Raises WebError when nothing
        usable came back (no address, refused, timed out, handshake failed for another reason than the
        certificate)."""
        parts, scheme, host, port = _split(url)
        return self._fetch_at(self.address(host, port), method, url, headers=headers, body=body, max_bytes=max_bytes,
                              credentials=credentials)

    def fetch_via(self, server: str, port: int, method: str, url: str) -> HttpResponse:
        """`url` asked of `server` (a name or address, pins apply) instead of the URL's own host: the
        request an attacker who knows the origin makes around the edge."""
        return self._fetch_at(self.address(server, port), method, url)

    def fetch_peer(self, url: str, chain: ssl.SSLContext, where: tuple[str, int] | None = None) -> PeerFetch:
        """One GET of an https URL over ONE connection that also yields the certificate the server presented:
        a tenant sweep's handshake and request in one. `chain` verifies the chain, not the name (the caller
        judges the names against the SAN); a rejected chain is fetched again without verification and
        marked, as `fetch` does. `where`: an address already resolved (else pins, then DNS). No credentials
        are sent. Raises WebError when nothing usable came back."""
        parts, _scheme, host, port = _split(url)
        ip, cport = where or self.address(host, port)
        target = f"https://{_netloc(ip, cport)}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        hdrs = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept": "*/*"}
        peer: dict = {}
        code, message = None, ""
        try:
            r = self._send(chain, "GET", url, target, hdrs, None, PAGE_BYTES, f"{ip}:{cport}", host, peer)
        except _CertificateRejected as rejected:
            code, message = rejected.code, rejected.message
            r = self._send(insecure_context(), "GET", url, target, hdrs, None, PAGE_BYTES, f"{ip}:{cport}", host, peer)
            r = _replace(r, tls_verified=False, tls_problem=rejected.reason)
        return PeerFetch(r, peer.get("der", b""), peer.get("protocol", ""), r.tls_verified is not False, code, message)

    def _fetch_at(self, where: tuple[str, int], method: str, url: str, *, headers: tuple[tuple[str, str], ...] = (),
                  body: bytes | None = None, max_bytes: int = PAGE_BYTES, credentials: bool = False) -> HttpResponse:
        parts, scheme, host, _port = _split(url)
        ip, cport = where
        target = f"{scheme}://{_netloc(ip, cport)}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        hdrs = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept": "*/*", **dict(headers)}
        if scheme == "http":
            return _not_challenged(self._send(None, method, url, target, hdrs, body, max_bytes, f"{ip}:{cport}", host))
        try:
            r = self._send(self.trust(), method, url, target, hdrs, body, max_bytes, f"{ip}:{cport}", host)
        except _CertificateRejected as rejected:
            if credentials or any(k.lower() in ("cookie", "authorization") for k in hdrs):
                # A password, a session or a token never goes to a server whose certificate failed.
                raise WebError(f"{method} {url} ({ip}:{cport}): {rejected.reason}; credentials are not sent to "
                               "an unverified server") from None
            r = self._send(insecure_context(), method, url, target, hdrs, body, max_bytes, f"{ip}:{cport}", host)
            r = _replace(r, tls_verified=False, tls_problem=rejected.reason)
        return _not_challenged(r)

    def _send(self, ctx: ssl.SSLContext | None, method: str, url: str, target: str, hdrs: dict, body: bytes | None,
              max_bytes: int, address: str, host: str, peer: dict | None = None) -> HttpResponse:
        ext = {"sni_hostname": host} if ctx is not None else {}
        t0 = time.perf_counter()
        try:
            with httpx.Client(verify=ctx if ctx is not None else False, timeout=self.timeout, follow_redirects=False,
                              trust_env=False) as client, \
                    client.stream(method, target, headers=hdrs, content=body, extensions=ext) as r:
                if peer is not None:
                    _keep_peer(r, peer)
                data, truncated = _read(r, max_bytes)
                elapsed = (time.perf_counter() - t0) * 1000
                return HttpResponse(url=url, status=r.status_code, headers=tuple((k.lower(), v) for k, v in r.headers.multi_items()),
                                    body=data, truncated=truncated, elapsed_ms=elapsed, http_version=r.http_version,
                                    address=address, tls_verified=True if ctx is not None else None)
        except (UnicodeError, ValueError) as e:
            raise WebError(f"{method} {url} ({address}): the request or the answer is malformed "
                           f"({type(e).__name__})") from None
        except httpx.HTTPError as e:
            err = verify_error(e)
            if err is not None and ctx is not None and ctx.verify_mode != ssl.CERT_NONE:
                raise _CertificateRejected(f"certificate rejected: {err.verify_message} (code {err.verify_code})",
                                           err.verify_code, err.verify_message) from None
            raise WebError(f"{method} {url} ({address}): {_describe(e)}") from None


    @contextlib.contextmanager
    def session(self, url: str, connections: int):
        """A `get()` -> (milliseconds, status) over kept-alive connections to url's host, for timing."""
        parts, scheme, host, port = _split(url)
        ip, cport = self.address(host, port)
        target = f"{scheme}://{_netloc(ip, cport)}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        verify: ssl.SSLContext | bool = False
        if scheme == "https":
            verify = self.trust()
            probe = self.fetch("GET", url)
            if probe.tls_verified is False:
                verify = insecure_context()
        ext = {"sni_hostname": host} if scheme == "https" else {}
        hdrs = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept": "*/*"}
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        with httpx.Client(verify=verify, timeout=self.timeout, follow_redirects=False, trust_env=False,
                          limits=limits) as client:
            def get() -> tuple[float, int]:
                t0 = time.perf_counter()
                try:
                    with client.stream("GET", target, headers=hdrs, extensions=ext) as r:
                        _read(r, PAGE_BYTES)  # bounded: a body that never ends is cut, not buffered
                        status = r.status_code
                except (httpx.HTTPError, UnicodeError, ValueError) as e:
                    raise WebError(f"GET {url}: {_describe(e)}") from None
                return (time.perf_counter() - t0) * 1000, status
            yield get


_SECRET_PARAM = re.compile(r"(?i)(token|session|sid|jwt|auth|key|secret|pass|code|sig|credential|x-amz-)")


def shown_url(url: str) -> str:
    """A URL fit for a report: a password in its userinfo and the values of credential-like query
    parameters (token, session, sig, X-Amz-Signature, ...) are replaced; names stay, to be acted on.
    A live server's Location header is not ours to repeat."""
    try:
        p = urlsplit(url)
        netloc = p.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{host}" if ":" in user else netloc
        query = "&".join(
            f"{k}=…" if _SECRET_PARAM.search(k) and v else (f"{k}={v}" if v or "=" in part else k)
            for part in p.query.split("&") if part for k, _, v in [part.partition("=")])
        return urlunsplit((p.scheme, netloc, p.path, query, ""))
    except ValueError:
        return "[an unparsable URL]"


def challenged(r: HttpResponse) -> str:
    """Why `r` is not the portal's answer ("" when it is): a bot challenge from the edge."""
    if (r.header("cf-mitigated") or "").strip().lower() == "challenge":
        return (f"{r.url}: the edge answered with a bot challenge (cf-mitigated: challenge), not the portal; "
                "allow verify's address or user agent in the WAF (a skip rule) and run it again")
    return ""


def _not_challenged(r: HttpResponse) -> HttpResponse:
    """A bot challenge from the edge is not the portal's answer: judging its headers or status would be
    judging the challenge page. Could not check, with the reason."""
    why = challenged(r)
    if why:
        raise WebError(why)
    return r


@functools.lru_cache(maxsize=1)
def insecure_context() -> ssl.SSLContext:
    """A client that verifies nothing: for looking past a certificate the TLS checks already judge."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def _split(url: str):
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise WebError(f"not a usable URL: {url[:200]!r}") from None
    if scheme not in ("http", "https") or not host:
        raise WebError(f"not an http(s) URL: {url[:200]!r}")
    return parts, scheme, host, port or (443 if scheme == "https" else 80)


class _CertificateRejected(Exception):
    def __init__(self, reason: str, code: int | None = None, message: str = ""):
        super().__init__(reason)
        self.reason, self.code, self.message = reason, code, message


def _keep_peer(r: httpx.Response, peer: dict) -> None:
    """The certificate and protocol of the connection that carried `r` (while it is still open)."""
    stream = r.extensions.get("network_stream")
    tls = stream.get_extra_info("ssl_object") if stream is not None else None
    if tls is not None:
        # ssl.SSLSocket, or (httpcore's sync stream) the C-level _SSLSocket, whose getpeercert is positional only
        peer["der"], peer["protocol"] = tls.getpeercert(True) or b"", tls.version() or ""


def _read(r: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    for chunk in r.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def _replace(r: HttpResponse, **kw) -> HttpResponse:
    from dataclasses import replace
    return replace(r, **kw)


def _netloc(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _is_ip(host: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def verify_error(e: BaseException) -> ssl.SSLCertVerificationError | None:
    seen, cur = 0, e
    while cur is not None and seen < 8:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    return None


def _describe(e: BaseException) -> str:
    """The innermost useful reason (httpx wraps the socket or ssl error). A protocol error's text quotes
    header bytes (a session cookie, a bearer token): only its class is named."""
    if isinstance(e, httpx.ProtocolError):
        return f"{type(e).__name__} (the answer broke HTTP; its text is not shown: it may quote a header)"
    seen, cur, best = 0, e, e
    while cur is not None and seen < 8:
        if isinstance(cur, (OSError, ssl.SSLError)):
            best = cur
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    text = str(best) or type(best).__name__
    return f"{type(best).__name__}: {text}" if type(best).__name__ not in text else text
