"""Portal checks (group "portal"), the guards: admin roles, CSRF, CORS with credentials, user
enumeration, authenticated error pages, the login throttle and authenticated latency.

Same observation as verify.checks.portalchecks (one sequential probe); evidence without bodies.
"""
from __future__ import annotations

from ..model import Verdict, failed, passed, skipped
from ..portalexpect import PortalExpectations
from ..registry import Item, check, checks_of
from .perfchecks import MIN_SAMPLES, percentile
from .portalchecks import GROUP, PORTAL, observed, portal_plan, whole

ENUM_SLACK_MS = 100.0


@check("portal-admin-roles", GROUP, "admin endpoints refuse every other role", plan=portal_plan(whole))
def judge_admin(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if not o.admin_reads:
        return skipped("no admin endpoint declared, or no account signed in")
    open_ = [r for r in o.admin_reads if not r["admin"] and 200 <= r["status"] < 300]
    if open_:
        r = open_[0]
        return failed(f"{len(open_)} admin read(s) by other roles: {r['account']} ({r['role']}) reads {r['path']} "
                      f"({r['status']})", "check the caller's role on every admin endpoint, server-side",
                      reads=open_)
    admins = [r for r in o.admin_reads if r["admin"]]
    if admins and not any(200 <= r["status"] < 300 for r in admins):
        raise ConnectionError("no admin account could read the admin endpoints: a refusal of everyone proves no "
                              "role check (are portal.adminPaths and adminRoles right?)")
    return passed(f"{sum(1 for r in o.admin_reads if not r['admin'])} read(s) by other roles refused")


@check("portal-csrf", GROUP, "state changes need the CSRF token and the portal's own Origin", plan=portal_plan(whole))
def judge_csrf(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if o.csrf_skipped:
        return skipped(o.csrf_skipped)
    if not o.csrf:
        return skipped("no state-changing endpoint declared (portal.csrf)")
    accepted = [r for r in o.csrf if r["variant"] != "legitimate" and 200 <= r["status"] < 300]
    if accepted:
        r = accepted[0]
        return failed(f"{r['endpoint']} accepted a request with the session cookie and {r['variant']} ({r['status']}): "
                      "any site the user visits can make it", "require the CSRF token (header or form field) "
                      "on every state change and refuse foreign Origins; SameSite=Lax alone does not cover same-site "
                      "subdomains", requests=o.csrf)
    legit = [r for r in o.csrf if r["variant"] == "legitimate"]
    note = "" if not legit or all(200 <= r["status"] < 300 for r in legit) else \
        " (the legitimate control request was refused too: check portal.csrf's body)"
    return passed(f"{len(o.csrf) - len(legit)} forged request(s) refused{note}", requests=o.csrf)


@check("portal-cors", GROUP, "authenticated API answers are not shared with foreign origins", plan=portal_plan(whole))
def judge_cors(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if not o.cors:
        return skipped("no account signed in")
    # `*` with credentials is refused by browsers: not exploitable, so not a FAIL here
    bad = [r for r in o.cors if r["credentials"] and r["acao"] == r["origin"]]
    if bad:
        r = bad[0]
        return failed(f"{r['path']} shares a signed-in user's answer with Origin {r['origin']} (credentials allowed)",
                      "allow credentials only for the portal's own origins, compared exactly", requests=bad)
    return passed(f"{len(o.cors)} foreign-origin request(s) got no credentialed grant")


@check("portal-user-enumeration", GROUP, "sign-in and reset answer the same for unknown and known addresses", plan=portal_plan(whole))
def judge_enumeration(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if o.enumeration_skipped:
        return skipped(o.enumeration_skipped)
    e = o.enumeration
    if not e:
        return skipped("no account to compare with")
    known, unknown = e["known"], e["unknown"]
    differs = _reset_differs(o.mail.get("reset_enum") or {})
    if sorted(set(known["statuses"])) != sorted(set(unknown["statuses"])):
        differs.append(f"status {sorted(set(known['statuses']))} vs {sorted(set(unknown['statuses']))}")
    if known["bodies"] != unknown["bodies"]:
        differs.append("a different body")
    if sorted(set(known["locations"])) != sorted(set(unknown["locations"])):
        differs.append("a different redirect")
    slack = ENUM_SLACK_MS + 0.25 * max(known["median_ms"], unknown["median_ms"])
    if abs(known["median_ms"] - unknown["median_ms"]) > slack:
        differs.append(f"timing {known['median_ms']:.0f} ms vs {unknown['median_ms']:.0f} ms")
    reset = o.mail.get("reset_enum") or {}
    if differs:
        return failed("the portal tells a known address from an unknown one: " + "; ".join(differs),
                      "answer every failed sign-in and every reset request with the same status, message and timing "
                      "(hash a dummy password for unknown addresses; send reset mail from a queue)",
                      known=known, unknown=unknown, reset=reset)
    where = "sign-in and reset request" if reset else "sign-in"
    return passed(f"{where}: known and unknown addresses get the same answer", known=known, unknown=unknown,
                  reset=reset)


def _reset_differs(r: dict) -> list[str]:
    """The reset request (verify.portalmail, --active): same status and body shape for both addresses.
    Timing is not compared: a portal that sends the mail inline answers a known address later."""
    if not r:
        return []
    known, unknown = r["known"], r["unknown"]
    out = []
    if known["status"] != unknown["status"]:
        out.append(f"reset request status {known['status']} vs {unknown['status']}")
    elif known["body"] != unknown["body"] or known["location"] != unknown["location"]:
        out.append("a different reset answer")
    return out


@check("portal-error-pages", GROUP, "authenticated errors leak nothing internal or foreign", plan=portal_plan(whole))
def judge_errors(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if not o.errors:
        return skipped("no account signed in, or no endpoint to send malformed input to")
    bad = [r for r in o.errors if r["leaks"] or r["foreign"]]
    if bad:
        r = bad[0]
        what = f"a {r['leaks'][0][0]}" if r["leaks"] else f"another org's data ({', '.join(r['foreign'])})"
        return failed(f"{r['request']} answered {r['status']} with {what}",
                      "validate input and answer errors with a generic JSON error; log details server-side",
                      responses=[{k: v for k, v in x.items()} for x in bad])
    return passed(f"{len(o.errors)} malformed request(s) answered without internals",
                  statuses=[r["status"] for r in o.errors])


@check("portal-login-throttle", GROUP, "repeated failed sign-ins are throttled", plan=portal_plan(whole))
def judge_throttle(item: Item, obs) -> Verdict:
    o = observed(item, obs)
    if o.throttle_skipped:
        return skipped(o.throttle_skipped)
    t = o.throttle
    allowed, after = t["attempts_allowed"], t["throttled_after"]
    if after is None or after > allowed + 2:
        return failed(f"{len(t['statuses'])} failed sign-ins in a row were not throttled (declared: {allowed} per "
                      f"{t['window']} s)", "throttle failed sign-ins per account and per client (429, or a lockout "
                      "with a delay); the edge's rate limit on the login path is the outer layer", statuses=t["statuses"])
    return passed(f"throttled after {after} failed sign-ins (declared {allowed})", statuses=t["statuses"])


def _plan_latency(p: PortalExpectations):
    return [Item(p.base_url + path if not path.startswith("/api/") else p.api_base_url + path, (PORTAL,), data=(p, path))
            for path in p.flows]


@check("portal-latency", GROUP, "signed-in main flows answer within the p95 budget", plan=portal_plan(_plan_latency))
def judge_latency(item: Item, obs) -> Verdict:
    p, path = item.data
    o = obs[PORTAL]
    times = o.latency.get(path, [])
    if len(times) < MIN_SAMPLES:
        return skipped(f"no signed-in samples of {path}") if not times else skipped(f"only {len(times)} samples")
    p50, p95, p99 = (round(percentile(times, q), 1) for q in (50, 95, 99))
    ev = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "samples": len(times), "budget_ms": p.latency_p95_ms,
          "statuses": sorted(set(o.latency_status.get(path, [])))}
    if p95 > p.latency_p95_ms:
        return failed(f"{path} signed in: p95 {p95:.0f} ms over {p.latency_p95_ms} ms (p50 {p50:.0f})",
                      "profile the flow for a signed-in user (per-tenant queries, N+1 loads, missing indexes)", **ev)
    return passed(f"{path} signed in: p50 {p50:.0f} ms, p95 {p95:.0f} ms", **ev)


CHECKS = checks_of(judge_admin, judge_csrf, judge_cors, judge_enumeration, judge_errors, judge_throttle, judge_latency)
