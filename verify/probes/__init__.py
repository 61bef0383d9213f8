"""Probes: fetch observations (DNS answers, parsed mail records, fetched policies). No verdicts here."""
from . import dnsprobes, mailprobes  # noqa: F401  (registration)
