"""Cloudflare's advanced certificates: what the API accepts, shared by the program (which orders one per
tenant group below a subdomain), the spec (which checks the authority against `caa`) and the policy pack.

Sources: cloudflare_certificate_pack in terraform-provider-cloudflare v5 (internal/services/certificate_pack/
schema.go: type, hosts "must contain the zone apex, may not contain more than 50 hosts", validation_method,
validity_days, certificate_authority); developers.cloudflare.com/ssl/reference/certificate-authorities/ and
certificate-validity-periods/ (Let's Encrypt 90 days only; Google and SSL.com 14/30/90; SSL.com 365 on
Enterprise; HTTP validation cannot prove a wildcard). Ordering one needs the Advanced Certificate Manager add-on.
"""
from __future__ import annotations

from typing import Literal, get_args

CertificateAuthority = Literal["lets_encrypt", "google", "ssl_com"]
# The CAA value that lets each authority issue (what `caa` must list for it).
CA_DOMAINS: dict[str, str] = {"lets_encrypt": "letsencrypt.org", "google": "pki.goog", "ssl_com": "ssl.com"}
assert set(get_args(CertificateAuthority)) == set(CA_DOMAINS)

PACK_TYPES = ("advanced",)
VALIDATION_METHODS = ("txt", "http", "email")
VALIDITY_DAYS = (14, 30, 90, 365)
# Validity each authority issues for (SSL.com's 365 only on Enterprise).
CA_VALIDITY: dict[str, tuple[int, ...]] = {"lets_encrypt": (90,), "google": (14, 30, 90), "ssl_com": (14, 30, 90)}
# What the program orders: every authority issues 90-day certificates.
DEFAULT_VALIDITY_DAYS = 90
MAX_PACK_HOSTS = 50
