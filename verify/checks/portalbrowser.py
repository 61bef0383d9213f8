"""Portal check in a real browser (group "portal"): the login → main page journey in a fresh Chromium
context, the Largest Contentful Paint of the page after login, and no console errors on the way.

Opt-in like `lcp` (`--browser`): without a browser or without Playwright it is SKIPPED with the reason.
The observation is verify.probes.browserprobes.BrowserJourney: paths without queries, counts, LCP and
the first console error cut to 200 characters with anything token-like taken out; never a cookie or a
password.
"""
from __future__ import annotations

from ..model import Verdict, failed, passed, skipped
from ..portalexpect import PortalExpectations
from ..probes.browserprobes import BrowserJourney
from ..registry import Item, check, checks_of, key
from ..webexpect import LCP_BUDGET_MS
from .portalchecks import GROUP, portal_plan

BROWSER = key("portal-browser")


def _whole(p: PortalExpectations):
    return [Item(p.base_url, (BROWSER,), data=p)]


def _problems(o: BrowserJourney, p: PortalExpectations) -> list[tuple[str, str]]:
    """(what is wrong, how to fix it), in the order a newcomer should look."""
    out = []
    if not o.signed_in:
        out.append((f"signing in as {o.account} through {p.session.login_path} did not complete: the browser is on "
                    f"{o.page or '?'} and who-am-I answered {', '.join(map(str, o.whoami)) or 'nothing'}",
                    "sign in by hand in a private window with the test account; check portal.session's field names "
                    "and that the login page works with JavaScript on"))
    if o.lcp_ms is not None and o.lcp_ms > LCP_BUDGET_MS:
        out.append((f"LCP of {o.page} after sign-in {o.lcp_ms:.0f} ms (element {o.element or '?'}) over "
                    f"{LCP_BUDGET_MS} ms", "serve the signed-in page's largest element faster: fewer round trips "
                    "before first render, smaller hero content, no render-blocking scripts"))
    errors = o.console_errors + o.page_errors
    if errors:
        out.append((f"{errors} console error(s) on the way ({o.page_errors} uncaught exception(s)); first on "
                    f"{o.first_error_page or '?'}: {o.first_error}",
                    "open the page signed in with the browser's console and fix the first error: a script that "
                    "throws leaves the page half-rendered for every user"))
    return out


@check("portal-browser-journey", GROUP, "login to the main page works in a fresh browser: fast, no console errors",
       plan=portal_plan(_whole))
def judge_browser_journey(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    o: BrowserJourney = obs[BROWSER]
    if o.skipped:
        return skipped(o.skipped)
    ev = {"account": o.account, "landed": o.landed, "page": o.page, "signed_in": o.signed_in,
          "signed_in_by": o.signed_in_by, "whoami": list(o.whoami),
          "lcp_ms": round(o.lcp_ms) if o.lcp_ms is not None else None, "element": o.element,
          "budget_ms": LCP_BUDGET_MS, "console_errors": o.console_errors, "page_errors": o.page_errors}
    if o.first_error:
        ev |= {"first_error": o.first_error, "first_error_page": o.first_error_page}
    problems = _problems(o, p)
    if problems:
        return failed("; ".join(m for m, _r in problems), " ".join(r for _m, r in problems), **ev)
    if o.lcp_ms is None:
        raise RuntimeError(f"signed in, but the browser reported no LCP for {o.page} ({o.detail or 'no content'})")
    return passed(f"signed in as {o.account} (by {o.signed_in_by}), {o.page} painted in {o.lcp_ms:.0f} ms, "
                  "no console error", **ev)


CHECKS = checks_of(judge_browser_journey)
