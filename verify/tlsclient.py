"""TLS handshakes as observations: which protocol versions a server accepts, and the certificate it presents.

A version is tried with a client pinned to exactly that version. Three outcomes are kept apart:
the server accepted it, the server refused it (a protocol-version or handshake alert, or the
connection closed during the handshake), or this client could not offer it at all (Debian's OpenSSL 3
offers TLS 1.0/1.1 only at `@SECLEVEL=0`; a build without them cannot test them). The last one is a
could-not-check, never "refused". A TCP connection that cannot be made is a could-not-check too.
"""
from __future__ import annotations

import datetime as _dt
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from .webclient import WebClient, WebError, insecure_context

VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
            "1.3": ssl.TLSVersion.TLSv1_3}

# OpenSSL reasons that mean "the server would not speak this version with us".
_REFUSALS = ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER", "HANDSHAKE_FAILURE",
             "NO_SHARED_CIPHER", "INAPPROPRIATE_FALLBACK", "INSUFFICIENT_SECURITY", "NO_CIPHERS_AVAILABLE",
             "UNEXPECTED_EOF", "TLSV1_ALERT", "SSLV3_ALERT")


class ClientCannotOffer(Exception):
    """This machine's TLS library cannot offer the version: the server was not asked (could not check)."""


@dataclass(frozen=True)
class VersionResult:
    host: str
    version: str
    accepted: bool
    detail: str            # the negotiated cipher, or the server's refusal as OpenSSL reported it
    address: str = ""


@dataclass(frozen=True)
class CertificateInfo:
    host: str
    address: str
    verified: bool                 # chains to a trust anchor (the system store, or --ca-file)
    verify_code: int | None
    verify_message: str
    dns_names: tuple[str, ...]     # subjectAltName dNSName entries (the CN is not used: browsers ignore it)
    not_before: _dt.datetime
    not_after: _dt.datetime
    issuer: str
    subject: str
    protocol: str

    def days_left(self, now: _dt.datetime | None = None) -> float:
        now = now or _dt.datetime.now(_dt.UTC)
        return (self.not_after - now).total_seconds() / 86400


def _client(version: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    v = VERSIONS[version]
    try:
        with warnings.catch_warnings():  # TLSv1/TLSv1_1 are deprecated in ssl: testing for them is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = v
        if version in ("1.0", "1.1"):
            ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as e:
        raise ClientCannotOffer(f"this client ({ssl.OPENSSL_VERSION}) cannot offer TLS {version}: {e}") from None
    return ctx


def client_can_offer(version: str) -> str | None:
    """None when this client can send a ClientHello for exactly `version`, else why not (no network)."""
    try:
        ctx = _client(version)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname="offer-test.invalid")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            return None if outgoing.pending else f"TLS {version} produced no ClientHello"
        return None
    except ClientCannotOffer as e:
        return str(e)
    except ssl.SSLError as e:
        return f"this client ({ssl.OPENSSL_VERSION}) cannot offer TLS {version}: {e.reason or e}"


def try_version(web: WebClient, host: str, version: str, port: int = 443) -> VersionResult:
    """Handshake with exactly `version`. Raises ClientCannotOffer or WebError (no TCP connection)."""
    why = client_can_offer(version)
    if why:
        raise ClientCannotOffer(why)
    ip, cport = web.address(host, port)
    ctx = _client(version)
    where = f"{ip}:{cport}"
    try:
        raw = socket.create_connection((ip, cport), timeout=web.timeout)
    except OSError as e:
        raise WebError(f"cannot connect to {host} at {where}: {e.strerror or e}") from None
    try:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            cipher = tls.cipher()
            return VersionResult(host, version, True, f"{tls.version()} {cipher[0] if cipher else ''}".strip(), where)
    except ssl.SSLError as e:
        reason = e.reason or str(e)
        if any(r in str(reason).upper() for r in _REFUSALS) or isinstance(e, ssl.SSLEOFError):
            return VersionResult(host, version, False, f"refused: {reason}", where)
        raise WebError(f"TLS {version} handshake with {host} at {where} failed: {reason}") from None
    except (ConnectionResetError, BrokenPipeError):
        return VersionResult(host, version, False, "refused: connection closed during the handshake", where)
    except OSError as e:
        raise WebError(f"TLS {version} handshake with {host} at {where} failed: {e.strerror or e}") from None
    finally:
        raw.close()


def certificate(web: WebClient, host: str, port: int = 443) -> CertificateInfo:
    """The certificate `host` presents (with its SNI), and whether it chains to a trust anchor.
    Names are judged by the caller against the SAN, so the handshake does not check the host name."""
    ip, cport = web.address(host, port)
    ctx = chain_context(web)
    where = f"{ip}:{cport}"
    code, message, verified = None, "", True
    try:
        der, proto = _handshake((ip, cport), host, ctx, web.timeout)
    except ssl.SSLCertVerificationError as e:
        code, message, verified = e.verify_code, e.verify_message, False
        der, proto = _handshake((ip, cport), host, insecure_context(), web.timeout)
    return certificate_info(host, where, der, proto, verified, code, message)


def certificate_info(host: str, address: str, der: bytes, protocol: str, verified: bool = True,
                     verify_code: int | None = None, verify_message: str = "") -> CertificateInfo:
    """A presented certificate (DER) as an observation."""
    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(host=host, address=address, verified=verified, verify_code=verify_code,
                           verify_message=verify_message, dns_names=_san(cert), not_before=cert.not_valid_before_utc,
                           not_after=cert.not_valid_after_utc, issuer=_cn(cert.issuer), subject=_cn(cert.subject),
                           protocol=protocol)


_CHAIN_LOCK = threading.Lock()


def chain_context(web: WebClient) -> ssl.SSLContext:
    """The client's trust anchors without the host-name check (names are judged against the SAN by
    tls-certificate-names), built once per client: loading the system store costs ~50 ms."""
    with _CHAIN_LOCK:
        cached = getattr(web, "_chain_ctx", None)
        if cached is None:
            cached = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            cached.check_hostname, cached.verify_mode = False, ssl.CERT_REQUIRED
            pem = _ca_pem(web.ssl_context) if web.ssl_context is not None else ""
            if pem:
                cached.load_verify_locations(cadata=pem)
            else:
                cached.load_default_certs()
            web._chain_ctx = cached
        return cached


def _handshake(addr: tuple[str, int], host: str, ctx: ssl.SSLContext, timeout: float) -> tuple[bytes, str]:
    try:
        raw = socket.create_connection(addr, timeout=timeout)
    except OSError as e:
        raise WebError(f"cannot connect to {host} at {addr[0]}:{addr[1]}: {e.strerror or e}") from None
    try:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True), tls.version() or ""
    except ssl.SSLCertVerificationError:
        raise
    except (ssl.SSLError, OSError) as e:
        raise WebError(f"TLS handshake with {host} at {addr[0]}:{addr[1]} failed: "
                       f"{getattr(e, 'reason', None) or e}") from None
    finally:
        raw.close()


def _ca_pem(trust: ssl.SSLContext) -> str:
    """The CA certificates a --ca-file context holds (empty for the system store: load_default_certs)."""
    ders = trust.get_ca_certs(binary_form=True)
    return "".join(ssl.DER_cert_to_PEM_cert(d) for d in ders)


def _san(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    return tuple(n.lower() for n in ext.value.get_values_for_type(x509.DNSName))


def _cn(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    parts = [str(a.value) for a in cns] + [str(a.value) for a in orgs]
    return ", ".join(parts) or name.rfc4514_string()


def name_covered(host: str, names: tuple[str, ...]) -> bool:
    """RFC 6125: an exact name, or a wildcard `*.parent` covering exactly one left-most label."""
    host = host.lower().rstrip(".")
    for n in names:
        n = n.lower().rstrip(".")
        if n == host:
            return True
        if n.startswith("*.") and "." in host and host.split(".", 1)[1] == n[2:]:
            return True
    return False
