"""Leak checks (group "http"): error pages, files that must not be served, secrets in the client bundle,
and plain-http subresources on HTTPS pages.

A secret found in a bundle is reported by kind, file and line:column, with a fingerprint to tell two
findings apart: never by its value.
"""
from __future__ import annotations

from ..leakpatterns import EXPOSURES, exposed, find_leaks
from ..model import Verdict, failed, passed, skipped
from ..probes.webprobes import BundleScan, Page
from ..registry import Item, check, checks_of, key
from ..webclient import HttpResponse
from ..webexpect import WebExpectations, WebHost
from .webcommon import HTTP, with_web

NOT_FOUND_PATH = "/launchready-verify-404-check"
MALFORMED_JSON = b'{"launchready": "verify", '


def _error_probes(h: WebHost) -> tuple:
    base = f"https://{h.name}"
    needs = [key("http", "GET", base + NOT_FOUND_PATH), key("http", "DELETE", base + "/")]
    if h.api:
        needs += [key("http", "POST", base + p, (("Content-Type", "application/json"),), MALFORMED_JSON)
                  for _, p in h.flows]
    return tuple(needs)


@with_web
def _plan_errors(exp, web: WebExpectations):
    return [Item(h.name, _error_probes(h)) for h in web.served]


@check("error-pages", HTTP, "error pages leak no stack trace, debug page or internal path", plan=_plan_errors)
def judge_errors(item: Item, obs) -> Verdict:
    leaks, asked = [], []
    for k in item.needs:
        method, url = k.args[0], k.args[1]
        r: HttpResponse = obs[k]
        asked.append(f"{method} {url} -> {r.status}")
        for leak in find_leaks(r.text()):
            leaks.append({"request": f"{method} {url}", "status": r.status, "kind": leak.kind, "line": leak.line,
                          "excerpt": leak.excerpt})
    if leaks:
        first = leaks[0]
        return failed(f"{first['request']} ({first['status']}) shows a {first['kind']} (line {first['line']}: "
                      f"{first['excerpt']!r})",
                      "turn debug mode off in production and answer errors with a generic page or JSON error; log "
                      "the details server-side", leaks=leaks)
    return passed(f"{len(asked)} error response(s) show nothing internal", requests=asked)


def _bundles(h: WebHost):
    """The one bundles probe of a host (its pages' same-origin scripts), shared by two checks."""
    return key("bundles", tuple(f"https://{h.name}{p}" for p in h.pages))


@with_web
def _plan_files(exp, web: WebExpectations):
    items = []
    for h in web.served:
        needs = [key("http", "GET", f"https://{h.name}{e.path}") for e in EXPOSURES]
        if not h.api:
            needs.append(_bundles(h))
        items.append(Item(h.name, tuple(needs)))
    return items


@check("sensitive-files", HTTP, "no .env, .git, status page or source map is served", plan=_plan_files)
def judge_files(item: Item, obs) -> Verdict:
    found = []
    for e in EXPOSURES:
        r: HttpResponse = obs[key("http", "GET", f"https://{item.target}{e.path}")]
        if r.status == 200 and exposed(e, r.body, r.content_type):
            found.append(f"{e.path} ({e.what})")
    for k in item.needs:
        if k.kind == "bundles":
            scan: BundleScan = obs[k]
            found += [f"{f.map_url} (source map of {f.url})" for f in scan.files if f.map_served]
    if found:
        return failed(f"{item.target} serves {len(found)} file(s) that must stay private: " + ", ".join(found),
                      "block these paths at the edge and remove them from the deployed files (deploy the build "
                      "output only; upload source maps to the error tracker instead of serving them)", files=found)
    return passed(f"{len(EXPOSURES)} sensitive path(s) not served")


@with_web
def _plan_bundles(exp, web: WebExpectations):
    return [Item(h.name, (_bundles(h),))
            for h in web.served if not h.api]


@check("bundle-secrets", HTTP, "the client JavaScript bundles hold no secret", plan=_plan_bundles)
def judge_bundles(item: Item, obs) -> Verdict:
    scan: BundleScan = obs[item.needs[0]]
    fetched = [f for f in scan.files if f.status == 200]
    if not scan.files:
        if scan.page_errors:
            raise ConnectionError(f"no page could be read: {scan.page_errors[0]}")
        return skipped("the main-flow pages load no same-origin script")
    hits = [{"file": f.url, "line": h.line, "column": h.column, "kind": h.kind, "fingerprint": h.fingerprint}
            for f in fetched for h in f.hits]
    if hits:
        first = hits[0]
        return failed(f"{len(hits)} secret(s) in the client bundle: {first['kind']} in {first['file']} at "
                      f"{first['line']}:{first['column']}",
                      "remove the key from client code (only publishable keys belong in a browser), rotate it at the "
                      "issuer now, and call the API from the server", secrets=hits)
    unread = [f.url for f in scan.files if f.status != 200]
    if not fetched:
        raise ConnectionError(f"no bundle could be read ({', '.join(unread[:3])})")
    partial = [f.url for f in fetched if f.truncated]
    note = f" (only the first 8 MB of {len(partial)} scanned)" if partial else ""
    return passed(f"{len(fetched)} bundle(s) scanned, no secret{note}", bundles=[f.url for f in fetched],
                  unread=unread, partially_scanned=partial)


@with_web
def _plan_mixed(exp, web: WebExpectations):
    return [Item(h.name, tuple(key("page", f"https://{h.name}{p}") for p in h.pages)) for h in web.served if not h.api]


@check("mixed-content", HTTP, "HTTPS pages load nothing over plain http", plan=_plan_mixed)
def judge_mixed(item: Item, obs) -> Verdict:
    mixed, pages = [], 0
    for k in item.needs:
        p: Page = obs[k]
        if not p.html:
            continue
        pages += 1
        mixed += [{"page": p.url, "tag": tag, "url": url, "line": line}
                  for tag, url, line in p.refs.subresources if url.lower().startswith("http://")]
    if pages == 0:
        return skipped("no main-flow page answered 200 with HTML")
    if mixed:
        m = mixed[0]
        return failed(f"{len(mixed)} plain-http subresource(s): <{m['tag']}> {m['url']} on {m['page']} (line {m['line']})",
                      "load every script, style, image and frame over https:// (or a relative URL); browsers block "
                      "or flag mixed content", mixed=mixed)
    return passed(f"{pages} page(s) load only https subresources")


CHECKS = checks_of(judge_errors, judge_files, judge_bundles, judge_mixed)
