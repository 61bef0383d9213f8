"""The MTA-STS policy fetcher: httpx, pinned to our DNS answers (or --connect-to), never the system resolver.

The host mta-sts.<domain> is resolved through the same DnsClient as everything else, then httpx
connects to that address with the real SNI and Host header, verifying the certificate for the host
name (against --ca-file when given). Redirects are not followed (RFC 8461 3.3).
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import httpx

from .context import FetchedPolicy, PolicyFetchError
from .dnsclient import DnsClient, parse_port
from .webclient import ANY_PORT, pin_for
from .webclient import verify_error as _verify_error


class ConnectToError(ValueError):
    pass


def parse_connect_to(text: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """curl's HOST:PORT:ADDR:PORT (ADDR may be [IPv6]). As in curl, an empty HOST matches any host and an
    empty PORT any port (`::127.0.0.1:8443`: every connection goes there): a wildcard tenant group of
    thousands of hosts needs one pin, not one per host. The key is then ("", port) or (host, 0)."""
    s = text.strip()
    bad = ConnectToError(f"bad --connect-to {text!r}: expected HOST:PORT:ADDR:PORT (ASCII, ports 1-65535; "
                         "an empty HOST or first PORT matches any)")
    if not s.isascii():
        raise bad
    try:
        host, port, rest = s.split(":", 2)
        if rest.startswith("["):
            addr, _, p2 = rest[1:].partition("]:")
        else:
            addr, p2 = rest.rsplit(":", 1)
    except ValueError:
        raise bad from None
    ports = (ANY_PORT if port == "" else parse_port(port)), parse_port(p2)
    if not addr or None in ports:
        raise bad
    return (host.lower().rstrip("."), ports[0]), (addr, ports[1])


@dataclass
class HttpsPolicyFetcher:
    dns: DnsClient
    timeout: float = 5.0
    ssl_context: ssl.SSLContext | None = None  # None: the system's trust store
    connect_to: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)

    def _address(self, host: str) -> tuple[str, int] | FetchedPolicy:
        """Where to connect, or a FetchedPolicy with the problem when the host has no address. The
        name is looked up even when --connect-to pins it: senders need it to resolve."""
        pinned = pin_for(self.connect_to, host, 443)
        statuses = []
        for rdtype in ("A", "AAAA"):
            ans = self.dns.query(host, rdtype)
            if ans.status == "failed":
                if pinned:
                    return pinned
                raise PolicyFetchError(f"could not fetch: resolving {host}: {ans.failure}")
            if ans.status == "ok":
                return pinned or (ans.records[0], 443)
            statuses.append(ans.status)
        what = ("does not exist (NXDOMAIN)" if "nxdomain" in statuses else "has no A or AAAA record")
        via = f" (via CNAME {' -> '.join(ans.cname_chain)})" if ans.cname_chain else ""
        return FetchedPolicy(url=f"https://{host}/.well-known/mta-sts.txt", status=0, content_type=None, text="",
                             problem=f"{host} {what}{via}: no sender can fetch the policy",
                             evidence={"host": host, "answer": statuses[-1], "cname_chain": list(ans.cname_chain)})

    def fetch(self, domain: str) -> FetchedPolicy:
        host = f"mta-sts.{domain}"
        url = f"https://{host}/.well-known/mta-sts.txt"
        where = self._address(host)
        if isinstance(where, FetchedPolicy):
            return where
        ip, port = where
        netloc = f"[{ip}]" if ":" in ip else ip
        ctx = self.ssl_context or ssl.create_default_context()
        try:
            with httpx.Client(verify=ctx, timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
                r = client.get(f"https://{netloc}:{port}/.well-known/mta-sts.txt",
                               headers={"Host": host}, extensions={"sni_hostname": host})
        except httpx.HTTPError as e:
            bad = _certificate_problem(e, ctx, host, (ip, port), self.timeout)
            if bad is not None:
                return FetchedPolicy(url=url, status=0, content_type=None, text="", problem=bad[0], evidence=bad[1])
            raise PolicyFetchError(f"could not fetch {url} ({ip}:{port}): {type(e).__name__}: {e}") from None
        return FetchedPolicy(url=url, status=r.status_code, content_type=r.headers.get("content-type"), text=r.text)


# OpenSSL verify codes that are facts about the server's certificate (every sender sees the same).
_HOSTNAME_MISMATCH = 62
_EXPIRED, _NOT_YET_VALID = 10, 9
_UNTRUSTED = {18, 19, 20, 21}  # self-signed leaf, self-signed root in chain, unknown issuer, unverifiable leaf


def _certificate_problem(e: BaseException, ctx: ssl.SSLContext, host: str, addr: tuple[str, int],
                         timeout: float) -> tuple[str, dict] | None:
    """(message, evidence) when the handshake failed on a definite certificate fault; else None (ERROR)."""
    err = _verify_error(e)
    if err is None:
        return None
    code = err.verify_code
    names = _presented_names(addr, host, timeout)
    ev = {"host": host, "verify_code": code, "verify_message": err.verify_message, "certificate_names": names}
    shown = ", ".join(names) if names else "names unknown"
    if code == _HOSTNAME_MISMATCH:
        return f"{host} presents a certificate for another name ({shown}): senders enforcing MTA-STS refuse it", ev
    if code in (_EXPIRED, _NOT_YET_VALID):
        return f"{host} presents a certificate that is {err.verify_message} ({shown})", ev
    if code in _UNTRUSTED and ctx.cert_store_stats().get("x509_ca", 0) > 0:
        return (f"{host} presents a certificate senders cannot verify ({err.verify_message}; {shown}): "
                "it must chain to a public CA"), ev
    return None


def _presented_names(addr: tuple[str, int], host: str, timeout: float) -> list[str]:
    """The DNS names of the certificate the server presents (a second, unverified handshake; best effort)."""
    import socket

    from cryptography import x509

    probe = ssl.create_default_context()
    probe.check_hostname, probe.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection(addr, timeout=timeout) as raw, probe.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
        cert = x509.load_der_x509_certificate(der)
        try:
            return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            return [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    except (OSError, ValueError):
        return []
