"""The TLS, HTTP and performance judges over hand-made observations: no network."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.spec import parse_spec, read_stack_file, stack_path
from verify.checks import headerchecks, leakchecks, perfchecks, redirectchecks, tlschecks
from verify.htmlrefs import page_refs
from verify.leakpatterns import EXPOSURES, exposed, find_leaks
from verify.model import Status
from verify.probes.webprobes import BundleFile, BundleScan, Hop, LatencySamples, Page, RedirectChain
from verify.registry import Item, Observations, key
from verify.tlsclient import CertificateInfo, VersionResult, client_can_offer, name_covered
from verify.webclient import HttpResponse
from verify.webexpect import web_from_spec

pytestmark = pytest.mark.unit
STACKS = Path(__file__).resolve().parents[2] / "stacks"


@pytest.fixture(scope="module")
def web():
    return web_from_spec(parse_spec(read_stack_file(stack_path("example", STACKS))))


def _resp(url="https://app.example.com/", status=200, headers=(), body=b"", ctype="text/html"):
    hs = tuple((k.lower(), v) for k, v in headers) + ((("content-type", ctype),) if ctype else ())
    return HttpResponse(url=url, status=status, headers=hs, body=body)


def _judge(judge, item, mapping):
    return judge(item, Observations.of(mapping))


# ------------------------------------------------------------------------------ expectations

def test_expectations_come_from_the_contract(web):
    assert web.canonical == "example.com" and web.alias == "www.example.com"
    assert [h.name for h in web.served] == ["example.com", "app.example.com", "api.example.com"]
    assert web.canonical_redirect.to_url == "https://example.com/some/path?q=1"
    assert {(r.from_url, r.status) for r in web.redirects} >= {
        ("https://app.example.com/forgot-password?ref=launch", 308)}
    assert web.hsts.max_age == 31536000 and web.hsts.include_subdomains and not web.hsts.preload
    assert dict(web.headers)["X-Content-Type-Options"] == "nosniff"
    assert web.session_cookie == "__Host-portal_session" and web.latency_p95_ms == 500
    # monitoring.flows names the GET-able flows; the API host's health path is timed too
    assert {(f.host, f.path) for f in web.perf_flows} == {
        ("example.com", "/"), ("example.com", "/login"), ("app.example.com", "/login"),
        ("app.example.com", "/password/reset"), ("app.example.com", "/dashboard"), ("api.example.com", "/v1/health")}


# ------------------------------------------------------------------------------ TLS

def _versions(host, **accepted):
    return {key("tls-version", host, v): VersionResult(host, v, ok, "TLSv1.2 X" if ok else "refused: PROTOCOL_VERSION")
            for v, ok in accepted.items()}


def test_legacy_protocols(web):
    item = Item("app.example.com", data="1.2")
    bad = _judge(tlschecks.judge_legacy, item, _versions("app.example.com", **{"1.0": True, "1.1": False, "1.2": True}))
    assert bad.status is Status.FAIL and "TLS 1.0" in bad.message and "1.1" not in bad.message.split("(")[0]
    good = _judge(tlschecks.judge_legacy, item, _versions("app.example.com", **{"1.0": False, "1.1": False, "1.2": True}))
    assert good.status is Status.PASS
    with pytest.raises(ConnectionError):  # every version refused: a broken handshake, not a verdict
        _judge(tlschecks.judge_legacy, item, _versions("app.example.com", **{"1.0": False, "1.1": False, "1.2": False}))


def test_this_client_can_offer_modern_versions():
    assert client_can_offer("1.2") is None and client_can_offer("1.3") is None


def _cert(days_left=60.0, verified=True, code=None, names=("app.example.com",), not_before_days=-30):
    now = dt.datetime.now(dt.UTC)
    return CertificateInfo(host="app.example.com", address="127.0.0.1:443", verified=verified, verify_code=code,
                           verify_message="certificate has expired" if code == 10 else "unable to get local issuer",
                           dns_names=names, not_before=now + dt.timedelta(days=not_before_days),
                           not_after=now + dt.timedelta(days=days_left), issuer="Test CA", subject="app", protocol="TLSv1.3")


@pytest.mark.parametrize("days,status", [(-10, Status.FAIL), (5, Status.FAIL), (20, Status.WARN), (60, Status.PASS)])
def test_certificate_expiry(days, status):
    item = Item("app.example.com")
    assert _judge(tlschecks.judge_expiry, item, {key("tls-cert", item.target): _cert(days)}).status is status


def test_chain_is_judged_apart_from_the_validity_period():
    item = Item("app.example.com")
    expired = _cert(-3, verified=False, code=10)
    assert _judge(tlschecks.judge_chain, item, {key("tls-cert", item.target): expired}).status is Status.PASS
    untrusted = _cert(60, verified=False, code=20)
    r = _judge(tlschecks.judge_chain, item, {key("tls-cert", item.target): untrusted})
    assert r.status is Status.FAIL and "trusted root" in r.message


def test_names_use_the_san_and_one_wildcard_label():
    assert name_covered("app.example.com", ("*.example.com",))
    assert not name_covered("a.b.example.com", ("*.example.com",)) and not name_covered("example.com", ("*.example.com",))
    r = _judge(tlschecks.judge_names, Item("www.example.com"),
               {key("tls-cert", "www.example.com"): _cert(names=("example.com", "app.example.com"))})
    assert r.status is Status.FAIL and "www.example.com" in r.message


@pytest.mark.parametrize("header,present,max_age", [
    (None, Status.FAIL, Status.SKIPPED),
    ("max-age=300; includeSubDomains", Status.PASS, Status.FAIL),
    ("max-age=31536000", Status.PASS, Status.FAIL),                       # includeSubDomains declared
    ("max-age=63072000; includeSubDomains; preload", Status.PASS, Status.PASS),
    ("includeSubDomains", Status.FAIL, Status.SKIPPED),
])
def test_hsts(web, header, present, max_age):
    url = "https://example.com/"
    item = Item("example.com", (key("page", url),), data=web)
    resp = _resp(url, headers=(("Strict-Transport-Security", header),) if header else ())
    obs = {key("page", url): Page(url, resp, page_refs("", url))}
    assert _judge(tlschecks.judge_hsts_present, item, obs).status is present
    assert _judge(tlschecks.judge_hsts_max_age, item, obs).status is max_age


def test_hsts_is_read_from_a_successful_answer(web):
    """An API root that 404s without HSTS while its health flow answers 200 with it: PASS (and the
    other way round: only failures, none with HSTS, is a FAIL naming the URL)."""
    root, health = "https://api.example.com/", "https://api.example.com/v1/health"
    item = Item("api.example.com", (key("page", root), key("page", health)), data=web)
    hsts = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)
    obs = {key("page", root): Page(root, _resp(root, 404), page_refs("", root)),
           key("page", health): Page(health, _resp(health, 200, hsts, ctype="application/json"), page_refs("", health))}
    assert _judge(tlschecks.judge_hsts_present, item, obs).status is Status.PASS


# ------------------------------------------------------------------------------ redirects

@pytest.mark.parametrize("status,location,verdict", [
    (301, "https://app.example.com/some/path?q=1", Status.PASS),
    (308, "https://app.example.com/some/path?q=1", Status.PASS),
    (302, "https://app.example.com/some/path?q=1", Status.FAIL),
    (301, "https://app.example.com/", Status.FAIL),
    (301, "http://app.example.com/some/path?q=1", Status.FAIL),
    (200, None, Status.FAIL),
])
def test_https_redirect(web, status, location, verdict):
    url = "http://app.example.com/some/path?q=1"
    r = _resp(url, status, (("Location", location),) if location else ())
    assert _judge(redirectchecks.judge_https, Item("app.example.com", data=web), {key("http", "GET", url): r}).status is verdict


def test_alias_may_go_straight_to_the_canonical_host(web):
    url = "http://www.example.com/some/path?q=1"
    r = _resp(url, 301, (("Location", "https://example.com/some/path?q=1"),))
    assert _judge(redirectchecks.judge_https, Item("www.example.com", data=web), {key("http", "GET", url): r}).status is Status.PASS


def test_canonical_redirect_in_two_hops_fails_naming_the_chain(web):
    want = web.canonical_redirect
    chain = RedirectChain(want.from_url, (Hop(want.from_url, 301, "http://example.com/some/path?q=1"),
                                          Hop("http://example.com/some/path?q=1", 301, want.to_url), Hop(want.to_url, 200, None)))
    r = _judge(redirectchecks.judge_canonical, Item("www.example.com", data=want), {key("redirects", want.from_url): chain})
    assert r.status is Status.FAIL and "2 hops" in r.message
    one = RedirectChain(want.from_url, (Hop(want.from_url, 301, want.to_url), Hop(want.to_url, 200, None)))
    assert _judge(redirectchecks.judge_canonical, Item("www.example.com", data=want),
                  {key("redirects", want.from_url): one}).status is Status.PASS


def test_legacy_redirect_status_must_be_the_declared_one(web):
    want = next(r for r in web.redirects if r.status == 308)
    ok = _resp(want.from_url, 308, (("Location", want.to_url),))
    bad = replace(ok, status=302)
    assert _judge(redirectchecks.judge_legacy, Item(want.from_url, data=want), {key("http", "GET", want.from_url): ok}).status is Status.PASS
    r = _judge(redirectchecks.judge_legacy, Item(want.from_url, data=want), {key("http", "GET", want.from_url): bad})
    assert r.status is Status.FAIL and "302" in r.message and "308" in r.message


def test_loop_detected():
    url = "https://app.example.com/dashboard"
    loop = RedirectChain(url, (Hop(url, 302, "/dashboard/"), Hop(url + "/", 302, "/dashboard"), Hop(url, 0, None)), loop=True)
    item = Item("app.example.com", (key("redirects", url),), data=(url,))
    r = _judge(redirectchecks.judge_loops, item, {key("redirects", url): loop})
    assert r.status is Status.FAIL and "/dashboard" in r.message


# ------------------------------------------------------------------------------ headers, cookies, CORS

def _declared_headers(web, drop=(), **change):
    hs = [(k, change.get(k, v)) for k, v in web.headers if k not in drop]
    return tuple((k, v) for k, v in hs if v is not None)


def test_security_headers(web):
    url = "https://example.com/"
    item = Item("example.com", (key("page", url),), data=web)

    def judge(resp):
        return _judge(headerchecks.judge_headers, item, {key("page", url): Page(url, resp, page_refs("", url))})
    assert judge(_resp(url, headers=_declared_headers(web))).status is Status.PASS
    r = judge(_resp(url, headers=_declared_headers(web, drop=("X-Content-Type-Options",))))
    assert r.status is Status.FAIL and "X-Content-Type-Options" in r.message
    # framing protected by CSP frame-ancestors instead of X-Frame-Options is fine
    assert judge(_resp(url, headers=_declared_headers(web, drop=("X-Frame-Options",)))).status is Status.PASS
    assert judge(_resp(url, headers=_declared_headers(web, **{"Referrer-Policy": "unsafe-url"}))).status is Status.FAIL


def test_csrf_cookies_are_not_sessions():
    from verify.checks.webcommon import looks_like_session

    assert looks_like_session("sessionid", "x") and looks_like_session("auth_token", "x")
    assert not looks_like_session("csrftoken", "x") and not looks_like_session("XSRF-TOKEN", "x")


def test_a_link_to_a_home_page_is_not_an_internal_path():
    assert find_leaks('<a href="/home/features">Features</a><script src="/app/main.js"></script>') == []


def _page(url, cookies=(), body=b"<html></html>"):
    return Page(url, _resp(url, headers=tuple(("Set-Cookie", c) for c in cookies), body=body), page_refs(body.decode(), url))


@pytest.mark.parametrize("cookie,status", [
    ("__Host-portal_session=abc; Path=/; Secure; HttpOnly; SameSite=Lax", Status.PASS),
    ("__Host-portal_session=abc; Path=/; HttpOnly; SameSite=Lax", Status.FAIL),
    ("__Host-portal_session=abc; Path=/; Secure; SameSite=Lax", Status.FAIL),
    ("__Host-portal_session=abc; Path=/; Secure; HttpOnly; SameSite=None", Status.FAIL),
    ("theme=dark; Path=/; Secure; SameSite=Lax", Status.PASS),        # not a session cookie: no HttpOnly needed
    ("theme=dark; Path=/", Status.FAIL),                               # but Secure always
    ("__Host-portal_session=; Max-Age=0", Status.PASS),                # a deletion is not judged
])
def test_cookie_flags(web, cookie, status):
    url = "https://app.example.com/login"
    r = _judge(headerchecks.judge_cookies, Item("app.example.com", (key("page", url),), data=web),
               {key("page", url): _page(url, (cookie,))})
    assert r.status is status
    assert "abc" not in repr(r.evidence) + r.message  # a cookie's value never reaches a result


def test_cors(web):
    url = "https://api.example.com/v1/health"
    needs = tuple(key("http", "GET", url, (("Origin", o),)) for o in headerchecks._origins("api.example.com"))
    item = Item("api.example.com", needs)

    def obs(acao_for, creds):
        out = {}
        for k in needs:
            origin = dict(k.args[2])["Origin"]
            acao = acao_for(origin)
            hs = ((("Access-Control-Allow-Origin", acao),) if acao else ()) + (
                (("Access-Control-Allow-Credentials", "true"),) if creds else ())
            out[k] = _resp(url, headers=hs, ctype="application/json")
        return out
    assert _judge(headerchecks.judge_cors, item, obs(lambda o: None, False)).status is Status.PASS
    assert _judge(headerchecks.judge_cors, item, obs(lambda o: o, True)).status is Status.FAIL
    assert _judge(headerchecks.judge_cors, item, obs(lambda o: "*", True)).status is Status.WARN  # browsers refuse the pair
    assert _judge(headerchecks.judge_cors, item, obs(lambda o: o, False)).status is Status.WARN
    assert _judge(headerchecks.judge_cors, item, obs(lambda o: "https://app.example.com", True)).status is Status.PASS


# ------------------------------------------------------------------------------ leaks

TRACE = b"""Internal Server Error
Traceback (most recent call last):
  File "/srv/portal/app/views.py", line 42, in token
    data = json.loads(body)
json.decoder.JSONDecodeError: Expecting value"""


def test_error_page_leaks():
    kinds = {leak.kind for leak in find_leaks(TRACE.decode())}
    assert {"Python traceback", "Python frame", "internal path"} <= kinds
    assert find_leaks("<html><body><h1>Not found</h1><p>Go back home.</p></body></html>") == []


def test_error_pages_judge(web):
    h = web.host("api.example.com")
    needs = leakchecks._error_probes(h)
    obs = {k: _resp(k.args[1], 404, body=b'{"error":"not found"}', ctype="application/json") for k in needs}
    assert _judge(leakchecks.judge_errors, Item(h.name, needs), obs).status is Status.PASS
    post = next(k for k in needs if k.args[0] == "POST")
    obs[post] = _resp(post.args[1], 500, body=TRACE, ctype="text/plain")
    r = _judge(leakchecks.judge_errors, Item(h.name, needs), obs)
    assert r.status is Status.FAIL and "traceback" in r.message.lower()


def test_sensitive_files_match_content_not_status():
    env = next(e for e in EXPOSURES if e.path == "/.env")
    assert exposed(env, b"DATABASE_URL=postgres://u:p@db/portal\nNODE_ENV=production\n", "text/plain")  # pragma: allowlist secret
    spa = b"<!doctype html><html><head><title>Portal</title></head><body><div id=app></div></body></html>"
    assert not exposed(env, spa, "text/html") and not exposed(env, spa, "application/octet-stream")
    head = next(e for e in EXPOSURES if e.path == "/.git/HEAD")
    assert exposed(head, b"ref: refs/heads/main\n", "application/octet-stream")


def test_bundle_secrets_report_position_never_value():
    from infra.knowledge.bundlesecrets import scan_text

    secret = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"  # pragma: allowlist secret
    hits = scan_text(f'var a=1;var stripe="{secret}";')
    scan = BundleScan(("https://app.example.com/",), (BundleFile("https://app.example.com/assets/app.js", 200, 40, False, tuple(hits)),))
    k = key("bundles", ("https://app.example.com/",))
    r = _judge(leakchecks.judge_bundles, Item("app.example.com", (k,)), {k: scan})
    assert r.status is Status.FAIL and "app.js" in r.message and ":" in r.message
    assert secret not in r.message + repr(r.evidence) + (r.remediation or "")


def test_mixed_content():
    url = "https://app.example.com/dashboard"
    body = b'<html><img src="http://cdn.example.com/a.png"><a href="http://example.org/">link</a><script src="/app.js"></script></html>'
    r = _judge(leakchecks.judge_mixed, Item("app.example.com", (key("page", url),)), {key("page", url): _page(url, body=body)})
    assert r.status is Status.FAIL and "http://cdn.example.com/a.png" in r.message and "example.org" not in r.message


# ------------------------------------------------------------------------------ performance

def test_percentiles_are_nearest_rank():
    data = list(range(1, 101))
    assert perfchecks.percentile(data, 50) == 50 and perfchecks.percentile(data, 95) == 95 and perfchecks.percentile(data, 99) == 99
    assert perfchecks.percentile([7.0], 95) == 7.0


def test_latency_budget(web):
    flow = web.perf_flows[0]
    item = Item(flow.url, (key("latency", flow.url),), data=(flow, 500))
    fast = LatencySamples(flow.url, tuple([20.0] * 19 + [900.0]), (200,) * 20, (), 20)
    slow = LatencySamples(flow.url, tuple([620.0] * 20), (200,) * 20, (), 20)
    assert _judge(perfchecks.judge_latency, item, {item.needs[0]: fast}).status is Status.PASS
    r = _judge(perfchecks.judge_latency, item, {item.needs[0]: slow})
    assert r.status is Status.FAIL and r.evidence["p95_ms"] == 620.0
    with pytest.raises(TimeoutError):
        _judge(perfchecks.judge_latency, item, {item.needs[0]: LatencySamples(flow.url, (1.0,), (200,), ("timeout",), 20)})


# ------------------------------------------------------------------------------ hostile input

@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_parsers_take_any_text(text):
    page_refs(text, "https://app.example.com/")
    find_leaks(text)
    from verify.cookies import parse_set_cookie
    name, attrs = parse_set_cookie(text)
    assert isinstance(attrs, dict)
    for e in EXPOSURES:
        exposed(e, text.encode("utf-8", "replace"), "text/plain")


def test_an_edge_bot_challenge_is_could_not_check():
    from verify.webclient import WebError, _not_challenged

    challenged = _resp("https://app.example.com/", 403, (("cf-mitigated", "challenge"),))
    with pytest.raises(WebError, match="bot challenge"):
        _not_challenged(challenged)
    assert _not_challenged(_resp("https://app.example.com/", 403)).status == 403


def test_a_leak_excerpt_never_repeats_a_credential():
    from verify.leakpatterns import _shown

    dsn = "postgres://" + "portal:" + "Xk9fq2" + "@db.internal/portal"  # built here: not a committed credential
    assert "Xk9fq2" not in _shown(f"/srv/portal/settings.py {dsn}")
    assert _shown("/srv/portal/app/views.py") == "/srv/portal/app/views.py"


def test_a_live_location_header_never_echoes_a_credential(web):
    """A redirect to a URL carrying a session or a password is named without the value."""
    from verify.webclient import shown_url

    url = "http://app.example.com/some/path?q=1"
    leaky = "https://ops:hunter2pw@app.example.com/login?session=SESSIONVALUE42&next=%2F"  # pragma: allowlist secret
    r = _judge(redirectchecks.judge_https, Item("app.example.com", data=web),
               {key("http", "GET", url): _resp(url, 302, (("Location", leaky),))})
    shown = r.message + repr(r.evidence)
    assert r.status is Status.FAIL and "hunter2pw" not in shown and "SESSIONVALUE42" not in shown
    assert "session=…" in shown and shown_url("https://a.example/p?page=2") == "https://a.example/p?page=2"
    chain = RedirectChain(url, (Hop(url, 302, leaky), Hop(leaky, 200, None)))
    assert "SESSIONVALUE42" not in chain.describe()
