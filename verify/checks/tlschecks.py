"""TLS checks (group "tls"): protocol versions, the certificate, HSTS, and an origin locked to the edge.

Every declared host is handshaken with its own SNI. "The server refused TLS 1.0" (PASS) is kept apart
from "this client could not offer TLS 1.0" (ERROR, raised by the probe): a client limit is never
reported as a property of the server.
"""
from __future__ import annotations

import datetime as _dt

from ..model import Verdict, failed, passed, skipped, warned
from ..probes.webprobes import DirectOrigin
from ..registry import Item, NotApplicable, check, checks_of, key
from ..tlsclient import CertificateInfo, VersionResult, name_covered
from ..webclient import HttpResponse
from ..webexpect import WebExpectations
from .webcommon import HTTP, TLS, directives, host_urls, representative, with_web

EXPIRY_FAIL_DAYS, EXPIRY_WARN_DAYS = 14, 30


def _hosts(web: WebExpectations, *needs) -> list[Item]:
    return [Item(h.name, tuple(n(h.name) for n in needs), data=web) for h in web.hosts]


@with_web
def _plan_legacy(exp, web: WebExpectations):
    if web.min_tls in ("1.0", "1.1"):
        return NotApplicable(f"the stack declares minimum TLS {web.min_tls}", exp.domain)
    modern = "1.3" if web.min_tls == "1.3" else "1.2"
    return [Item(h.name, (key("tls-version", h.name, "1.0"), key("tls-version", h.name, "1.1"),
                          key("tls-version", h.name, modern)), data=modern) for h in web.hosts]


@check("tls-legacy-protocols", TLS, "TLS 1.0 and 1.1 are refused", plan=_plan_legacy)
def judge_legacy(item: Item, obs) -> Verdict:
    results: list[VersionResult] = [obs[key("tls-version", item.target, v)] for v in ("1.0", "1.1")]
    modern: VersionResult = obs[key("tls-version", item.target, item.data)]
    accepted = [r.version for r in results if r.accepted]
    ev = {r.version: r.detail for r in results}
    if accepted:
        return failed(f"{item.target} accepts TLS {' and '.join(accepted)} ({'; '.join(ev[v] for v in accepted)})",
                      "set the minimum TLS version to 1.2 at the edge (Cloudflare: min_tls_version 1.2) and on "
                      "the origin (nginx: ssl_protocols TLSv1.2 TLSv1.3;)", offered=ev, address=results[0].address)
    if not modern.accepted:
        # everything refused: the handshake itself is broken, so "refuses 1.0" says nothing
        raise ConnectionError(f"{item.target} refused every TLS version tried, {item.data} included ({modern.detail})")
    return passed(f"{item.target} refuses TLS 1.0 and 1.1", offered=ev)


def _version_check(version: str):
    def plan(exp, web: WebExpectations):
        if version == "1.3" and not web.tls13:
            return NotApplicable("the stack does not declare TLS 1.3", exp.domain)
        if version == "1.2" and web.min_tls == "1.3":
            return NotApplicable("the stack declares minimum TLS 1.3", exp.domain)
        # both modern versions are tried: a host that completes neither has a broken handshake (ERROR)
        return [Item(h.name, (key("tls-version", h.name, "1.2"), key("tls-version", h.name, "1.3")), data=version)
                for h in web.hosts]
    return with_web(plan)


def _judge_version(item: Item, obs, hint: str) -> Verdict:
    version = item.data
    r: VersionResult = obs[key("tls-version", item.target, version)]
    if r.accepted:
        return passed(f"{item.target} accepts TLS {version} ({r.detail})")
    other: VersionResult = obs[key("tls-version", item.target, "1.3" if version == "1.2" else "1.2")]
    if not other.accepted:
        raise ConnectionError(f"{item.target} completes no TLS handshake (TLS 1.2: {r.detail if version == '1.2' else other.detail}; "
                              f"TLS 1.3: {other.detail if version == '1.2' else r.detail})")
    return failed(f"{item.target} refuses TLS {version} ({r.detail})", hint, address=r.address)


@check("tls-1-2", TLS, "TLS 1.2 is accepted", plan=_version_check("1.2"))
def judge_tls12(item: Item, obs) -> Verdict:
    return _judge_version(item, obs, "enable TLS 1.2: older clients and most monitoring still need it")


@check("tls-1-3", TLS, "TLS 1.3 is accepted where declared", plan=_version_check("1.3"))
def judge_tls13(item: Item, obs) -> Verdict:
    return _judge_version(item, obs, "enable TLS 1.3 at the edge (Cloudflare: tls_1_3 on) and on the origin")


@with_web
def _plan_cert(exp, web: WebExpectations):
    return _hosts(web, lambda h: key("tls-cert", h))


def _cert_ev(c: CertificateInfo) -> dict:
    return {"subject": c.subject, "issuer": c.issuer, "names": list(c.dns_names), "not_after": c.not_after.isoformat(),
            "address": c.address}


# OpenSSL verify codes about the validity period, judged by tls-certificate-expiry, not by the chain.
PERIOD_CODES = {9, 10}


@check("tls-certificate-chain", TLS, "certificate chains to a trusted root", plan=_plan_cert)
def judge_chain(item: Item, obs) -> Verdict:
    c: CertificateInfo = obs[key("tls-cert", item.target)]
    if c.verified:
        return passed(f"chain verified (issuer {c.issuer})", **_cert_ev(c))
    if c.verify_code in PERIOD_CODES:
        return passed(f"chain to a trusted root (issuer {c.issuer}); its validity period is judged by "
                      "tls-certificate-expiry", **_cert_ev(c))
    return failed(f"{item.target}'s certificate does not chain to a trusted root: {c.verify_message}",
                  "serve the full chain (leaf + intermediates) from a public CA; browsers show a warning otherwise",
                  verify_code=c.verify_code, **_cert_ev(c))


@check("tls-certificate-names", TLS, "certificate covers the host name", plan=_plan_cert)
def judge_names(item: Item, obs) -> Verdict:
    c: CertificateInfo = obs[key("tls-cert", item.target)]
    if name_covered(item.target, c.dns_names):
        return passed(f"{item.target} is in the certificate's names", **_cert_ev(c))
    shown = ", ".join(c.dns_names) or "no subjectAltName (a CN alone is ignored by browsers)"
    return failed(f"the certificate {item.target} presents does not name it ({shown})",
                  f"issue a certificate whose subjectAltName includes {item.target} (or a wildcard covering it)",
                  **_cert_ev(c))


@check("tls-certificate-expiry", TLS, "certificate is valid for 30 days or more", plan=_plan_cert)
def judge_expiry(item: Item, obs) -> Verdict:
    c: CertificateInfo = obs[key("tls-cert", item.target)]
    now = _dt.datetime.now(_dt.UTC)
    days = c.days_left(now)
    ev = {**_cert_ev(c), "days_left": round(days, 1)}
    hint = "renew the certificate (and check why automatic renewal did not run)"
    if c.not_before > now:
        return failed(f"certificate is not valid before {c.not_before:%Y-%m-%d %H:%M} UTC", hint, **ev)
    if days < 0:
        return failed(f"certificate expired {-days:.0f} days ago ({c.not_after:%Y-%m-%d})", hint, **ev)
    if days < EXPIRY_FAIL_DAYS:
        return failed(f"certificate expires in {days:.0f} days ({c.not_after:%Y-%m-%d})", hint, **ev)
    if days < EXPIRY_WARN_DAYS:
        return warned(f"certificate expires in {days:.0f} days ({c.not_after:%Y-%m-%d})", hint, **ev)
    return passed(f"valid for {days:.0f} more days ({c.not_after:%Y-%m-%d})", **ev)


# ------------------------------------------------------------------------------ HSTS

@with_web
def _plan_hsts(exp, web: WebExpectations):
    if not web.hsts.enabled:
        return NotApplicable("the stack does not declare HSTS", exp.domain)
    return [Item(h.name, tuple(key("page", u) for u in host_urls(h)), data=web) for h in web.hosts]


def _hsts_header(item: Item, obs) -> tuple[HttpResponse, str | None]:
    """The header of the host's first successful response (browsers keep HSTS from any HTTPS answer)."""
    r: HttpResponse = representative([obs[k].response for k in item.needs])
    return r, r.header("strict-transport-security")


@check("hsts-present", TLS, "HSTS header on HTTPS responses", plan=_plan_hsts)
def judge_hsts_present(item: Item, obs) -> Verdict:
    r, value = _hsts_header(item, obs)
    if value is None or "max-age" not in directives(value):
        web: WebExpectations = item.data
        want = f"max-age={web.hsts.max_age}" + ("; includeSubDomains" if web.hsts.include_subdomains else "")
        return failed(f"{r.url} answered {r.status} without Strict-Transport-Security"
                      + (f" (malformed: {value!r})" if value is not None else ""),
                      f"send `Strict-Transport-Security: {want}` on every HTTPS response (Cloudflare: "
                      "security_header; nginx: add_header ... always)", status=r.status)
    return passed(f"Strict-Transport-Security: {value}")


@check("hsts-max-age", TLS, "HSTS max-age and includeSubDomains as declared", plan=_plan_hsts)
def judge_hsts_max_age(item: Item, obs) -> Verdict:
    web: WebExpectations = item.data
    _r, value = _hsts_header(item, obs)
    d = directives(value or "")
    if "max-age" not in d:
        return skipped("no HSTS header (reported by hsts-present)")
    try:
        age = int(d["max-age"])
    except ValueError:
        age = -1
    problems = []
    if age < web.hsts.max_age:
        problems.append(f"max-age={d['max-age']} is below the declared {web.hsts.max_age}")
    if web.hsts.include_subdomains and "includesubdomains" not in d:
        problems.append("includeSubDomains is missing")
    if web.hsts.preload and "preload" not in d:
        problems.append("preload is missing")
    if problems:
        want = f"max-age={web.hsts.max_age}" + ("; includeSubDomains" if web.hsts.include_subdomains else "") + (
            "; preload" if web.hsts.preload else "")
        return failed(f"HSTS on {item.target}: " + "; ".join(problems), f"send `Strict-Transport-Security: {want}`",
                      header=value)
    return passed(f"max-age={age}" + (" with includeSubDomains" if "includesubdomains" in d else ""), header=value)


# ------------------------------------------------------------------------------ origin lock

@with_web
def _plan_origin(exp, web: WebExpectations):
    if not web.origin_locked:
        return NotApplicable("the stack does not lock origins to the edge (tls.authenticatedOriginPulls)", exp.domain)
    return [Item(host, (key("origin-direct", host, origin),), data=origin) for host, origin in web.origin_locked]


@check("origin-locked", HTTP, "the origin refuses clients that bypass the edge", plan=_plan_origin)
def judge_origin(item: Item, obs) -> Verdict:
    o: DirectOrigin = obs[key("origin-direct", item.target, item.data)]
    if o.reachable:
        return failed(f"origin {o.origin} serves {item.target} directly ({o.detail}): the WAF, rate limits and "
                      "headers of the edge can be bypassed",
                      "require the edge's client certificate at the origin (Authenticated Origin Pulls: nginx "
                      "ssl_verify_client on with Cloudflare's origin-pull CA) or allow only the edge's address ranges",
                      origin=o.origin, status=o.status)
    return passed(f"origin {o.origin} refuses direct requests ({o.detail})", origin=o.origin)


CHECKS = checks_of(judge_legacy, judge_tls12, judge_tls13, judge_chain, judge_names, judge_expiry,
                   judge_hsts_present, judge_hsts_max_age, judge_origin)
