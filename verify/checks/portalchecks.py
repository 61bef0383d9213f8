"""Portal checks (group "portal"): sign-in and sessions, tenant boundaries, roles, CSRF, CORS,
enumeration, authenticated errors, the login throttle and authenticated latency.

All judges read one observation (verify.probes.portalprobes.PortalObservation): the journeys run in
a fixed order inside one probe so that they never trip each other. Evidence holds statuses, sizes,
hashes and whether a marker appeared, never a body, a cookie or a password.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ..model import Verdict, failed, passed, skipped, warned
from ..portalclient import MissingPassword
from ..portalexpect import PortalExpectations
from ..probes.portalprobes import PortalObservation
from ..registry import Item, NotApplicable, check, checks_of, key
from .headerchecks import cookie_problems

GROUP = "portal"
PORTAL = key("portal")
_URL_SECRETS = ("token", "session", "sid", "jwt", "auth", "access_token", "id_token", "code", "key")


def portal_plan(judge_items):
    def plan(exp):
        p: PortalExpectations | None = getattr(exp, "portal", None)
        if p is None:
            return NotApplicable("the stack declares no portal section", exp.domain)
        return judge_items(p)
    return plan


def whole(p: PortalExpectations):
    return [Item(p.base_url, (PORTAL,), data=p)]


def _per_account(p: PortalExpectations):
    return [Item(a.name, (PORTAL,), data=p) for a in p.accounts]


def observed(item: Item, obs) -> PortalObservation:
    return obs[PORTAL]


@check("portal-login", GROUP, "every test account can sign in", plan=portal_plan(_per_account))
def judge_login(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if item.target in o.signin_errors:
        raise MissingPassword(o.signin_errors[item.target])
    s = o.signins.get(item.target)
    if s is None:
        raise ConnectionError(f"{item.target} was not tried")
    if s.ok:
        return passed(f"signed in ({s.status}); who-am-I answered {s.whoami}")
    return failed(f"could not sign in as {item.target}: login answered {s.status}, who-am-I {s.whoami}",
                  "check the test account (password in its environment variable, not locked) and the portal's "
                  "session fields in portal.session", login_status=s.status, whoami_status=s.whoami)


def _signed(item: Item, obs):
    o = observed(item, obs)
    if item.target in o.signin_errors:
        raise MissingPassword(o.signin_errors[item.target])
    s = o.signins.get(item.target)
    return s if s is not None and s.ok else None


@check("portal-session-fixation", GROUP, "the session id changes at sign-in", plan=portal_plan(_per_account))
def judge_fixation(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    s = _signed(item, obs)
    if s is None:
        return skipped("not signed in (reported by portal-login)")
    if p.session.kind == "bearer":
        return skipped("bearer tokens: no session cookie to fixate")
    if not s.after:
        return warned(f"the declared session cookie {p.session.cookie} was not set at sign-in",
                      "declare the portal's session cookie in portal.session.cookie (or cache.sessionCookie)")
    if s.before and s.before == s.after:
        return failed("the session id set before sign-in is kept after it (session fixation): whoever planted it "
                      "is signed in with the victim", "issue a new session id at sign-in (and at every privilege "
                      "change); drop the pre-login one", before=s.before, after=s.after)
    return passed("a new session id at sign-in" + (" (none before)" if not s.before else ""))


@check("portal-session-cookie", GROUP, "the session cookie is Secure, HttpOnly and SameSite", plan=portal_plan(_per_account))
def judge_session_cookie(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    s = _signed(item, obs)
    if s is None or p.session.kind == "bearer" or not s.cookie_attrs and not s.after:
        return skipped("no session cookie was set at sign-in")
    problems = cookie_problems(p.session.cookie, s.cookie_attrs, p.session.cookie)
    if problems:
        return failed(f"{p.session.cookie}: {', '.join(problems)}", "set the session cookie with Secure; HttpOnly; "
                      "SameSite=Lax (or Strict); Path=/", flags=sorted(s.cookie_attrs))
    return passed(f"{p.session.cookie}: Secure, HttpOnly, SameSite={s.cookie_attrs.get('samesite')}")


def _lifetime(attrs: dict) -> float | None:
    import email.utils
    import time

    if attrs.get("max-age", "").strip().lstrip("-").isdigit():
        return float(attrs["max-age"])
    if attrs.get("expires"):
        try:
            return email.utils.parsedate_to_datetime(attrs["expires"]).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return None


@check("portal-session-lifetime", GROUP, "sessions live no longer than declared", plan=portal_plan(_per_account))
def judge_lifetime(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    s = _signed(item, obs)
    if s is None or not s.cookie_attrs:
        return skipped("no session cookie was set at sign-in")
    life = _lifetime(s.cookie_attrs)
    if life is None:
        return passed("a browser-session cookie (no Max-Age or Expires)")
    if life > p.session.lifetime + 60:
        return failed(f"the session cookie lives {life / 86400:.1f} days; the stack declares at most "
                      f"{p.session.lifetime} s", "expire sessions server-side and give the cookie a Max-Age within "
                      "portal.session.lifetime", lifetime_s=round(life), declared_s=p.session.lifetime)
    return passed(f"Max-Age {life:.0f} s within {p.session.lifetime} s")


@check("portal-token-in-url", GROUP, "no session token in a URL", plan=portal_plan(_per_account))
def judge_token_in_url(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    loc = o.redirect_after_login.get(item.target)
    names = [k for k, v in parse_qsl(urlsplit(loc or "").query) if k.lower() in _URL_SECRETS and len(v) >= 8]
    if names:
        return failed(f"after sign-in the browser is sent to a URL carrying {', '.join(names)}=…: it lands in "
                      "history, logs and Referer headers", "keep session tokens in cookies or headers, never in a URL",
                      parameters=names)
    return passed("no token in the post-login URL")


@check("portal-logout", GROUP, "logout ends the session on the server", plan=portal_plan(whole))
def judge_logout(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if not o.logout:
        return skipped("no account could sign in (reported by portal-login)")
    r = o.logout[0]
    if 200 <= r["replay_status"] < 300:
        return failed(f"the session cookie still works after logout (who-am-I answered {r['replay_status']})",
                      "destroy the session server-side at logout; clearing the cookie alone leaves stolen copies valid",
                      **r)
    return passed(f"the old session is refused after logout ({r['replay_status']})", **r)


@check("portal-tenant-isolation", GROUP, "no org reads another org's objects", plan=portal_plan(whole))
def judge_tenants(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    o = observed(item, obs)
    if not o.cross_reads and not o.list_reads:
        return skipped("no signed-in org, or no object or list endpoint declared")
    leaks = [r for r in o.cross_reads if r["viewer"] != r["owner"] and (200 <= r["status"] < 300 or r["marker"])]
    leaks += [{"viewer": r["viewer"], "path": r["path"], "status": r["status"], "owner": ",".join(r["foreign"])}
              for r in o.list_reads if r["foreign"]]
    own = [r for r in o.cross_reads if r["viewer"] == r["owner"]]
    if leaks:
        first = leaks[0]
        return failed(f"{len(leaks)} cross-org read(s): {first['viewer']}'s session reads {first['owner']}'s "
                      f"{first['path']} ({first['status']})",
                      "check the caller's org on every object and list query (not only that the id exists); "
                      "answer 404 for another org's ids", reads=leaks)
    unreadable = [r for r in own if not (200 <= r["status"] < 300 and r["marker"])]
    if own and len(unreadable) == len(own):
        raise ConnectionError("no org could read its own objects (ids or markers in portal.objects may be wrong): "
                              "a refusal of everything proves no boundary")
    return passed(f"{sum(1 for r in o.cross_reads if r['viewer'] != r['owner'])} cross-org read(s) refused; "
                  f"{len(o.list_reads)} list read(s) show only the caller's org", orgs=[n for n, _m in p.orgs])


CHECKS = checks_of(judge_login, judge_fixation, judge_session_cookie, judge_lifetime, judge_token_in_url, judge_logout,
                   judge_tenants)
