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

import re
import shutil
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..portalclient import password_of
from ..portalexpect import PortalExpectations
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


def _resolver_rules(ctx, *urls: str) -> str:
    web = ctx.web
    hosts = {urlsplit(u).hostname or "" for u in urls} | {h for h, _p in web.connect_to}
    rules = []
    for host in sorted(h for h in hosts if h):
        for port in (443, 80):
            if web.pinned(host, port) or port == 443:
                try:
                    ip, p = web.address(host, port)
                except WebError:
                    continue
                rules.append(f"MAP {host}:{port} {ip}:{p}")
    if web.connect_to or web.dns.nameservers:
        rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules)


def chromium_args(ctx, *urls: str) -> list[str]:
    """Headless Chromium's flags: quiet (no background traffic) and resolving as the web client does."""
    # --no-proxy-server: an http(s)_proxy in the environment would resolve names itself and bypass the
    # resolver rules (the pins), as trust_env=False keeps it from doing for the web client.
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-domain-reliability", "--disable-sync", "--no-proxy-server"]
    rules = _resolver_rules(ctx, *urls)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    return args


def no_browser(ctx, what: str) -> str:
    """Why no browser can run ("" when one can): no --browser, or Playwright not installed."""
    if not getattr(ctx, "browser", None):
        return f"no browser: pass --browser to {what} in Chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install 'launch-ready[browser]')"
    return ""


@probe("lcp")
def lcp(ctx, url: str) -> LcpObservation:
    why = no_browser(ctx, "measure LCP")
    if why:
        return LcpObservation(url, skipped=why)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    timeout_ms = max(ctx.timeout * 4, 10) * 1000
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=ctx.browser, headless=True, args=chromium_args(ctx, url))
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


# ----------------------------------------------------------------- the signed-in journey

ERROR_CHARS = 200
SUBMIT_WAIT_MS = 10_000
# Anything token-like in a console message (session ids, CSRF tokens, JWT parts, API keys): 16+
# characters of a token alphabet holding both a letter and a digit.
_TOKENISH = re.compile(r"(?=[A-Za-z0-9_\-+=]*\d)(?=[A-Za-z0-9_\-+=]*[A-Za-z])[A-Za-z0-9_\-+=]{16,}")
_QUERY = re.compile(r"\?[^\s\"')]*")


@dataclass(frozen=True)
class BrowserJourney:
    account: str
    skipped: str = ""             # why no browser ran (the check is SKIPPED with this reason)
    landed: str = ""              # the path the login sent the browser to (no query)
    page: str = ""                # the path of the main page measured
    signed_in: bool = False
    signed_in_by: str = ""        # "who-am-I" or "landing URL"
    whoami: tuple[int, ...] = ()  # "who am I" statuses with the browser's cookies (API host, then the app's)
    lcp_ms: float | None = None
    element: str = ""
    console_errors: int = 0       # console messages of type error
    page_errors: int = 0          # uncaught exceptions
    first_error: str = ""         # the first one, cut, with queries and anything token-like taken out
    first_error_page: str = ""
    detail: str = ""


def scrub(text: str, *secrets: str) -> str:
    """A console message fit for evidence: the given secrets, URL queries and token-like runs taken out,
    cut to ERROR_CHARS."""
    # Cut first (with room for a secret straddling the cut): a page can log megabytes, and the token
    # pattern costs more than linear time on long runs.
    text = text[:4 * ERROR_CHARS]
    for value in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    return _TOKENISH.sub("<token>", _QUERY.sub("?…", text))[:ERROR_CHARS]


def _main_page(exp: PortalExpectations) -> str | None:
    """The first declared flow that is a page (not an /api path), or None (then: where login lands)."""
    return next((f for f in exp.flows if not (f == "/api" or f.startswith("/api/"))), None)


@probe("portal-browser", journey=True)
def portal_browser(ctx) -> BrowserJourney:
    exp: PortalExpectations = ctx.portal
    if exp is None or ctx.web is None:
        raise WebError("no portal section or no web client")
    account = exp.accounts[0]
    why = no_browser(ctx, "walk the login journey")
    if why:
        return BrowserJourney(account.name, skipped=why)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    password = password_of(account)  # MissingPassword: ERROR naming the variable
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=ctx.browser, headless=True,
                                         args=chromium_args(ctx, exp.base_url, exp.api_base_url))
            try:
                return _journey(ctx, browser, exp, account, password)
            finally:
                browser.close()
    except PlaywrightError as e:
        first = scrub(str(e).splitlines()[0], password, account.username)
        raise WebError(f"Chromium could not walk the login journey of {exp.base_url}: {first}") from None


class _Console:
    """Console errors and uncaught exceptions of every page of the journey, in order."""

    def __init__(self) -> None:
        self.console: list[tuple[str, str]] = []
        self.page: list[tuple[str, str]] = []
        self.first: tuple[str, str] | None = None

    def watch(self, page) -> None:
        page.on("console", lambda m: m.type == "error" and not _favicon(m) and self._add(self.console, m.text,
                                                                                      page.url))
        page.on("pageerror", lambda e: self._add(self.page, f"{e.name}: {e.message}", page.url))

    def _add(self, into: list, text: str, url: str) -> None:
        into.append((text, url))
        self.first = self.first or (text, url)


def _favicon(message) -> bool:
    """The browser's own /favicon.ico request failing: not the page's error (it breaks nothing)."""
    where = urlsplit((message.location or {}).get("url") or "").path
    return where == "/favicon.ico" and message.text.startswith("Failed to load resource")


def _journey(ctx, browser, exp: PortalExpectations, account, password: str) -> BrowserJourney:
    s = exp.session
    timeout_ms = max(ctx.timeout * 4, 10) * 1000
    # A fresh context: no cookie, no storage, no cache (an incognito window); no trace, no video, no HAR.
    context = browser.new_context(ignore_https_errors=ctx.web.ssl_context is not None)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    seen = _Console()
    seen.watch(page)
    page.goto(exp.base_url + s.login_path, wait_until="load")
    page.fill(f'[name="{s.username_field}"]', account.username)
    page.fill(f'[name="{s.password_field}"]', password)
    _submit(page, s.password_field)
    landed = urlsplit(page.url).path
    main = _main_page(exp)
    if main is not None and landed != main and landed != s.login_path:
        page.goto(exp.base_url + main, wait_until="load")
    here = urlsplit(page.url).path
    found = page.evaluate(_LCP_JS) if here != s.login_path else None
    whoami = tuple(_whoami(context, url) for url in dict.fromkeys(
        (exp.api_base_url + s.whoami_path, exp.base_url + s.whoami_path)))
    by = "who-am-I" if 200 in whoami else "landing URL" if here != s.login_path and not _login_form(page, s) else ""
    first = seen.first or ("", "")
    return BrowserJourney(
        account.name, landed=landed, page=here, signed_in=bool(by), signed_in_by=by, whoami=whoami,
        lcp_ms=float(found["ms"]) if found else None,
        element=scrub(str(found.get("element") or ""), password) if found else "",
        console_errors=len(seen.console), page_errors=len(seen.page),
        first_error=scrub(first[0], password, account.username, *(m for _o, m in exp.orgs)),
        first_error_page=urlsplit(first[1]).path, detail="" if found else "no largest-contentful-paint entry")


def _submit(page, password_field: str) -> None:
    """Submit the login form as a person would (its submit button, else Enter in the password field)
    and wait for where it leads; a login that navigates nowhere is judged by where the page stays."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.locator(f'form:has([name="{password_field}"]) [type="submit"], '
                          f'form:has([name="{password_field}"]) button:not([type])').first
    try:
        with page.expect_navigation(wait_until="load", timeout=SUBMIT_WAIT_MS):
            if button.count():
                button.click()
            else:
                page.press(f'[name="{password_field}"]', "Enter")
    except PlaywrightTimeout:
        pass


def _whoami(context, url: str) -> int:
    """"Who am I" asked by Chromium itself in a tab of the journey's context (its cookies, its resolver
    rules; host-only cookies stay on their host); an HTML answer (a single-page app's shell for any
    path) is no answer: 0. Playwright's request API is not used: it resolves names outside Chromium."""
    tab = context.new_page()
    try:
        r = tab.goto(url, wait_until="commit")
        if r is None:
            return 0
        html = "text/html" in (r.headers.get("content-type") or "")
        return 0 if html and r.status == 200 else r.status
    finally:
        tab.close()


def _login_form(page, s) -> bool:
    return page.locator(f'[name="{s.password_field}"]').count() > 0


PROBES = (lcp, portal_browser)
