"""What the TLS, HTTP and performance checks share: groups, the plan wrapper, and header parsing."""
from __future__ import annotations

import functools
import re

from ..expectations import Expectations
from ..registry import NotApplicable

TLS, HTTP, PERF = "tls", "http", "perf"
NO_HOSTS = "the stack declares no public host"


def with_web(plan):
    """A web check's plan: plan(exp, web), or not applicable when there is nothing to reach."""
    @functools.wraps(plan)
    def wrapper(exp: Expectations):
        web = getattr(exp, "web", None)
        if web is None or not web.hosts:
            return NotApplicable(NO_HOSTS, exp.domain)
        return plan(exp, web)
    return wrapper


def directives(value: str) -> dict[str, str]:
    """`max-age=31536000; includeSubDomains` -> {"max-age": "31536000", "includesubdomains": ""} (names lower-case,
    the first occurrence wins, quotes stripped)."""
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, _, val = part.strip().partition("=")
        name = name.strip().lower()
        if name and name not in out:
            out[name] = val.strip().strip('"')
    return out


def csp_directive(policy: str, name: str) -> str | None:
    """The value of one CSP directive (`frame-ancestors`), or None when absent."""
    for part in policy.split(";"):
        tokens = part.strip().split(None, 1)
        if tokens and tokens[0].lower() == name:
            return tokens[1].strip() if len(tokens) > 1 else ""
    return None


def same_url(a: str, b: str) -> bool:
    """Equal URLs, ignoring the case of scheme and host and a default port."""
    from urllib.parse import urlsplit

    def norm(u: str):
        p = urlsplit(u)
        port = p.port or (443 if p.scheme.lower() == "https" else 80)
        return p.scheme.lower(), (p.hostname or "").lower(), port, p.path or "/", p.query
    try:
        return norm(a) == norm(b)
    except ValueError:
        return False


_SECRETISH = re.compile(r"(?i)(session|token|auth|jwt|sid|secret|key|pass)")
# CSRF double-submit cookies must be readable by the page's scripts (Django csrftoken, XSRF-TOKEN).
_CSRF = re.compile(r"(?i)(csrf|xsrf)")


def looks_like_session(name: str, declared: str) -> bool:
    """Whether a cookie carries a session: the declared session cookie, or a name that says so."""
    return name == declared or (bool(_SECRETISH.search(name)) and not _CSRF.search(name))


def host_urls(host) -> tuple[str, ...]:
    """The URLs whose responses stand for a host: its root and its pages (verify.webexpect.WebHost)."""
    return tuple(dict.fromkeys([f"https://{host.name}/", *(f"https://{host.name}{p}" for p in host.pages)]))


def representative(responses):
    """The response a host's headers are judged on: the first that succeeded (below 400), else the first.
    An API's root 404 is not where its headers are meant to be read when a flow answers 200."""
    ok = [r for r in responses if r.status < 400]
    return (ok or list(responses))[0]
