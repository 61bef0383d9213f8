"""The browser probe: Largest Contentful Paint of a page in a real Chromium, driven by Playwright.

Opt-in (`--browser [PATH]`): Playwright is an optional dependency (`pip install launch-ready[browser]`)
and the browser is the system's Chromium, never a downloaded build. Without either the observation
says why, and the check is SKIPPED with that reason.

The browser resolves names the way every other probe does: each declared host is mapped to the
address the web client found for it (the --connect-to pin or the --nameserver answer) with
`--host-resolver-rules`; when pins or nameservers are in use every other name is refused, so a test
world never reaches the system resolver. A --ca-file CA cannot be given to Chromium, so with one the
page is loaded with certificate errors ignored (the TLS checks judge the certificate).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..registry import probe
from ..webclient import WebError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SETTLE_MS = 800

_LCP_JS = """() => new Promise(resolve => {
  let last = null;
  new PerformanceObserver(list => { for (const e of list.getEntries()) last = e; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => {
    if (!last) { resolve(null); return; }
    const el = last.element;
    const name = el ? (el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       (el.currentSrc ? ' ' + el.currentSrc : '')) : (last.url || '');
    resolve({ms: last.renderTime || last.loadTime || last.startTime, element: name.slice(0, 200)});
  }, SETTLE_MS);
})""".replace("SETTLE_MS", str(SETTLE_MS))


@dataclass(frozen=True)
class LcpObservation:
    url: str
    lcp_ms: float | None = None
    element: str = ""
    skipped: str = ""      # why no browser ran (the check is SKIPPED with this reason)
    detail: str = ""


def find_browser(given: str | None) -> str | None:
    """The Chromium to run: the path given, else the first known name on PATH."""
    if given and given != "auto":
        return shutil.which(given) or (given if shutil.os.path.exists(given) else None)
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def _resolver_rules(ctx, url: str) -> str:
    web = ctx.web
    hosts = {urlsplit(url).hostname or ""} | {h for h, _p in web.connect_to}
    rules = []
    for host in sorted(h for h in hosts if h):
        for port in (443, 80):
            if (host, port) in web.connect_to or port == 443:
                try:
                    ip, p = web.address(host, port)
                except WebError:
                    continue
                rules.append(f"MAP {host}:{port} {ip}:{p}")
    if web.connect_to or web.dns.nameservers:
        rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules)


@probe("lcp")
def lcp(ctx, url: str) -> LcpObservation:
    if not getattr(ctx, "browser", None):
        return LcpObservation(url, skipped="no browser: pass --browser to measure LCP in Chromium")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return LcpObservation(url, skipped="Playwright is not installed (pip install 'launch-ready[browser]')")
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-domain-reliability", "--disable-sync"]
    rules = _resolver_rules(ctx, url)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    timeout_ms = max(ctx.timeout * 4, 10) * 1000
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=ctx.browser, headless=True, args=args)
            try:
                page = browser.new_context(ignore_https_errors=ctx.web.ssl_context is not None).new_page()
                page.goto(url, wait_until="load", timeout=timeout_ms)
                found = page.evaluate(_LCP_JS)
            finally:
                browser.close()
    except PlaywrightError as e:
        raise WebError(f"Chromium could not load {url}: {str(e).splitlines()[0][:300]}") from None
    if not found:
        return LcpObservation(url, detail="no largest-contentful-paint entry")
    return LcpObservation(url, lcp_ms=float(found["ms"]), element=str(found.get("element") or ""))


PROBES = (lcp,)
