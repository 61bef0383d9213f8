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
from .dnsclient import DnsClient


class ConnectToError(ValueError):
    pass


def parse_connect_to(text: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """curl's HOST:PORT:ADDR:PORT (ADDR may be [IPv6])."""
    s = text.strip()
    try:
        host, port, rest = s.split(":", 2)
        if rest.startswith("["):
            addr, _, p2 = rest[1:].partition("]:")
        else:
            addr, p2 = rest.rsplit(":", 1)
        return (host.lower(), int(port)), (addr, int(p2))
    except ValueError:
        raise ConnectToError(f"bad --connect-to {text!r}: expected HOST:PORT:ADDR:PORT") from None


@dataclass
class HttpsPolicyFetcher:
    dns: DnsClient
    timeout: float = 5.0
    ssl_context: ssl.SSLContext | None = None  # None: the system's trust store
    connect_to: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)

    def _address(self, host: str) -> tuple[str, int]:
        if (host, 443) in self.connect_to:
            return self.connect_to[(host, 443)]
        for rdtype in ("A", "AAAA"):
            ans = self.dns.query(host, rdtype)
            if ans.status == "failed":
                raise PolicyFetchError(f"could not fetch: resolving {host}: {ans.failure}")
            if ans.status == "ok":
                return ans.records[0], 443
        raise PolicyFetchError(f"could not fetch: {host} does not resolve (publish an A/AAAA or CNAME for it)")

    def fetch(self, domain: str) -> FetchedPolicy:
        host = f"mta-sts.{domain}"
        url = f"https://{host}/.well-known/mta-sts.txt"
        ip, port = self._address(host)
        netloc = f"[{ip}]" if ":" in ip else ip
        ctx = self.ssl_context or ssl.create_default_context()
        try:
            with httpx.Client(verify=ctx, timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
                r = client.get(f"https://{netloc}:{port}/.well-known/mta-sts.txt",
                               headers={"Host": host}, extensions={"sni_hostname": host})
        except httpx.HTTPError as e:
            raise PolicyFetchError(f"could not fetch {url} ({ip}:{port}): {type(e).__name__}: {e}") from None
        return FetchedPolicy(url=url, status=r.status_code, content_type=r.headers.get("content-type"), text=r.text)
