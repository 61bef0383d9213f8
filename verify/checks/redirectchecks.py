"""Redirect checks (group "http"): HTTPS forced, the canonical host, legacy redirects, no loops.

Each redirect is judged by its first hop (status and Location) and, where a chain matters, by the
chain followed to its end (at most verify.probes.webprobes.MAX_HOPS, stopping at a repeated URL).
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from ..model import Verdict, failed, passed
from ..probes.webprobes import RedirectChain
from ..registry import Item, NotApplicable, check, checks_of, key
from ..webclient import HttpResponse, shown_url
from ..webexpect import RedirectExpectation, WebExpectations
from .webcommon import HTTP, same_url, with_web

PERMANENT = (301, 308)
PROBE_PATH = "/some/path?q=1"   # the path and query every redirect must keep (as in the launch contract)


@with_web
def _plan_https(exp, web: WebExpectations):
    if not web.always_https:
        return NotApplicable("the stack does not force HTTPS (tls.alwaysUseHttps: false)", exp.domain)
    return [Item(h.name, (key("http", "GET", f"http://{h.name}{PROBE_PATH}"),), data=web) for h in web.hosts]


@check("https-redirect", HTTP, "http:// redirects to https:// in one permanent hop", plan=_plan_https)
def judge_https(item: Item, obs) -> Verdict:
    web: WebExpectations = item.data
    url = f"http://{item.target}{PROBE_PATH}"
    r: HttpResponse = obs[key("http", "GET", url)]
    want = {f"https://{item.target}{PROBE_PATH}"}
    if item.target == web.alias:
        want.add(f"https://{web.canonical}{PROBE_PATH}")
    hint = ("answer every http:// request with 301 (or 308) to the same URL on https:// "
            "(Cloudflare: Always Use HTTPS; nginx: return 301 https://$host$request_uri;)")
    if not r.redirect:
        return failed(f"{url} answered {r.status} over plain HTTP instead of redirecting to HTTPS", hint, status=r.status)
    loc = urljoin(url, r.location or "")
    if not any(same_url(loc, w) for w in want):
        why = "to plain http" if loc.startswith("http:") else "losing the path or query" if urlsplit(loc).path != "/some/path" else "elsewhere"
        return failed(f"{url} redirects {why}: {r.status} {shown_url(loc)}", hint, status=r.status,
                      location=shown_url(loc))
    if r.status not in PERMANENT:
        return failed(f"{url} redirects with {r.status} (temporary): browsers and crawlers keep using http://", hint,
                      status=r.status, location=shown_url(loc))
    return passed(f"{r.status} to {shown_url(loc)}")


@with_web
def _plan_canonical(exp, web: WebExpectations):
    if web.canonical_redirect is None:
        return NotApplicable(f"{web.alias} is not declared among the hosts", exp.domain)
    r = web.canonical_redirect
    return [Item(web.alias, (key("redirects", r.from_url),), data=r)]


@check("canonical-redirect", HTTP, "the alias host redirects to the canonical host in one hop", plan=_plan_canonical)
def judge_canonical(item: Item, obs) -> Verdict:
    want: RedirectExpectation = item.data
    chain: RedirectChain = obs[key("redirects", want.from_url)]
    hint = (f"redirect https://{item.target}/<path>?<query> straight to {want.to_url.split('/some')[0]}/<path>?<query> "
            "with 301 in one hop (a Cloudflare redirect rule, or nginx return 301 https://<canonical>$request_uri;)")
    hops = chain.redirects
    if not hops:
        return failed(f"{want.from_url} answered {chain.final.status} instead of redirecting to the canonical host", hint,
                      status=chain.final.status)
    first = urljoin(want.from_url, hops[0].location or "")
    if same_url(first, want.to_url) and hops[0].status in PERMANENT:
        return passed(f"{hops[0].status} to {first}")
    reached = any(same_url(urljoin(h.url, h.location or ""), want.to_url) for h in hops)
    if reached:
        return failed(f"{want.from_url} reaches the canonical URL in {len(hops)} hops: {chain.describe()}", hint,
                      chain=chain.describe())
    if same_url(first, want.to_url):
        return failed(f"{want.from_url} redirects with {hops[0].status} (temporary)", hint, status=hops[0].status)
    return failed(f"{want.from_url} does not reach {want.to_url}: {chain.describe()}", hint, chain=chain.describe())


@with_web
def _plan_legacy(exp, web: WebExpectations):
    if not web.redirects:
        return NotApplicable("the stack declares no legacy redirects", exp.domain)
    return [Item(r.from_url, (key("http", "GET", r.from_url),), data=r) for r in web.redirects]


@check("legacy-redirects", HTTP, "declared legacy redirects land where declared", plan=_plan_legacy)
def judge_legacy(item: Item, obs) -> Verdict:
    want: RedirectExpectation = item.data
    r: HttpResponse = obs[key("http", "GET", want.from_url)]
    hint = f"redirect {want.from_url.split('?')[0]} to {want.to_url.split('?')[0]} with {want.status}, keeping the query"
    if not r.redirect:
        return failed(f"{want.from_url} answered {r.status}, not a {want.status} redirect", hint, status=r.status)
    loc = urljoin(want.from_url, r.location or "")
    problems = []
    if r.status != want.status:
        problems.append(f"status {r.status}, declared {want.status}")
    if not same_url(loc, want.to_url):
        problems.append(f"goes to {shown_url(loc)}, declared {want.to_url}")
    if problems:
        return failed(f"{want.from_url}: " + "; ".join(problems), hint, status=r.status, location=shown_url(loc))
    return passed(f"{r.status} to {shown_url(loc)}")


@with_web
def _plan_loops(exp, web: WebExpectations):
    items = []
    for h in web.hosts:
        starts = [f"http://{h.name}/", *(f"https://{h.name}{p}" for p in (h.pages or ("/",)))]
        items.append(Item(h.name, tuple(key("redirects", u) for u in dict.fromkeys(starts)), data=tuple(starts)))
    return items


@check("redirect-loop", HTTP, "no redirect loops or endless chains", plan=_plan_loops)
def judge_loops(item: Item, obs) -> Verdict:
    bad = []
    for url in dict.fromkeys(item.data):
        chain: RedirectChain = obs[key("redirects", url)]
        if chain.loop or chain.too_long:
            bad.append(("loop: " if chain.loop else "endless: ") + chain.describe())
    if bad:
        return failed(f"{len(bad)} redirect loop(s) on {item.target}: {bad[0]}",
                      "make every redirect land on a page that answers 200 (check the edge's and the app's redirect "
                      "rules against each other, e.g. trailing-slash rules and http/https flips)", chains=bad)
    return passed(f"{len(dict.fromkeys(item.data))} start URL(s) end without a loop")


CHECKS = checks_of(judge_https, judge_canonical, judge_legacy, judge_loops)
