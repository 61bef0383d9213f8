"""Portal checks (group "portal"), the mail journeys: the reset link, its single use and expiry, the
invite, and the authentication of the mail the portal sends (SPF, DKIM, DMARC as received).

Same observation as verify.checks.portalchecks (one sequential probe; the journeys are in
verify.portalmail). Could not check (no inbox, a mail that never came) is ERROR, never FAIL; the
journeys change state, so without --active (or on a production stack without permission) SKIPPED.
Evidence: statuses, timings, hashes and header verdicts, never a token, a password or a body.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from ..model import Verdict, failed, passed, skipped, warned
from ..portalexpect import PortalExpectations
from ..registry import Item, check, checks_of
from .portalchecks import GROUP, PORTAL, observed, portal_plan


class MailNotChecked(ConnectionError):
    """The mail journey could not run to the point this check judges (inbox, delivery, portal answer)."""


def _plan(part: str):
    def items(p: PortalExpectations):
        if p.mailbox is None or getattr(p, part) is None:
            return []   # not declared: nothing to prove (docs/stack-spec-portal.md)
        return [Item(p.base_url + (p.reset.request_path if part == "reset" else p.invite.path), (PORTAL,), data=p)]
    return portal_plan(items)


def _journey(item: Item, obs, part: str) -> dict:
    """The journey's record, or SKIPPED/ERROR raised as the journey ended before judging."""
    m = observed(item, obs).mail
    if m.get("skipped"):
        raise _Skip(m["skipped"])
    if m.get("error"):
        raise MailNotChecked(m["error"])
    j = m.get(part)
    if j is None:
        raise MailNotChecked(f"the {part} journey did not run")
    if j.get("skipped"):
        raise _Skip(j["skipped"])
    return j


class _Skip(Exception):
    pass


def _guard(fn):
    """A judge body that may raise _Skip (-> SKIPPED with its reason)."""
    def judge(item: Item, obs) -> Verdict:
        try:
            return fn(item, obs)
        except _Skip as s:
            return skipped(str(s))
    judge.__name__, judge.__doc__ = fn.__name__, fn.__doc__
    return judge


def _errored(j: dict) -> None:
    if j.get("error"):
        raise MailNotChecked(j["error"])


def portal_hosts(p: PortalExpectations) -> set[str]:
    return {urlsplit(p.base_url).hostname or "", urlsplit(p.api_base_url).hostname or ""}


@check("portal-reset-link", GROUP, "the reset mail arrives in time with an https link on the portal's host",
       plan=_plan("reset"))
@_guard
def judge_reset_link(item: Item, obs) -> Verdict:
    p: PortalExpectations = item.data
    r = _journey(item, obs, "reset")
    _errored(r)
    link = r.get("link") or {}
    if not link:
        return failed("the reset mail carries no link", "put the reset link (https, the portal's host) in the mail body",
                      arrived_s=r.get("arrived_s"))
    ev = {"arrived_s": r.get("arrived_s"), "within_s": p.reset.within, **link}
    if link["scheme"] != "https":
        return failed(f"the reset link is {link['scheme']}:// on {link['host']}: its token crosses the network in "
                      "clear", "build reset links from the portal's https base URL (an APP_URL setting), never from "
                      "the request", **ev)
    if link["host"] not in portal_hosts(p):
        return failed(f"the reset link points at {link['host']}, not the portal ({urlsplit(p.base_url).hostname}): "
                      "a staging or foreign host receives the token", "set the production base URL in the "
                      "portal's mail settings; never derive links from the Host header", **ev)
    return passed(f"the reset mail arrived in {r.get('arrived_s')} s with an https link on {link['host']}", **ev)


@check("portal-reset-single-use", GROUP, "a reset link works once and is refused a second time", plan=_plan("reset"))
@_guard
def judge_reset_single_use(item: Item, obs) -> Verdict:
    r = _journey(item, obs, "reset")
    _errored(r)
    first = r.get("first_use")
    if not first or not first["accepted"]:
        raise MailNotChecked(f"the reset link was refused at its first use ({(first or {}).get('status')}): "
                             "single use cannot be judged (is the reset confirm form a plain password form?)")
    ev = {"first_status": first["status"], "second_status": r.get("reuse", {}).get("status"),
          "signin_after": r.get("signin_after")}
    if r.get("reuse", {}).get("accepted"):
        return failed(f"the reset link set a password twice ({first['status']}, then {r['reuse']['status']}): a "
                      "leaked or forwarded mail resets the account again", "spend the token at its first use "
                      "(delete it or mark it used in the same transaction that sets the password)", **ev)
    if not (r.get("signin_after") or {}).get("ok"):
        raise MailNotChecked("after the reset the test account could not sign in with the password from its "
                             "environment variable: check the account by hand")
    return passed(f"the link worked once ({first['status']}) and was refused again ({ev['second_status']}); "
                  "the account signs in with its own password", **ev)


@check("portal-reset-expiry", GROUP, "a reset link is refused after its declared lifetime", plan=_plan("reset"))
@_guard
def judge_reset_expiry(item: Item, obs) -> Verdict:
    r = _journey(item, obs, "reset")
    _errored(r)
    e = r.get("expiry") or {}
    if e.get("skipped"):
        return skipped(e["skipped"])
    if e.get("error") or "accepted" not in e:
        raise MailNotChecked(e.get("error") or "the expiry test did not run")
    ev = {k: e[k] for k in ("waited_s", "lifetime_s", "status")}
    if e["accepted"]:
        return failed(f"the reset link still worked {e['waited_s']} s after it was sent (declared lifetime "
                      f"{e['lifetime_s']} s)", "store the token's expiry with it and refuse it server-side after the "
                      "declared lifetime", **ev)
    return passed(f"refused ({e['status']}) {e['waited_s']} s after it was sent (lifetime {e['lifetime_s']} s)", **ev)


@check("portal-invite", GROUP, "an invite lands the invitee in the inviting org with the invited role, nowhere else",
       plan=_plan("invite"))
@_guard
def judge_invite(item: Item, obs) -> Verdict:
    i = _journey(item, obs, "invite")
    _errored(i)
    if not (i.get("accept") or {}).get("accepted"):
        raise MailNotChecked(f"the invite link did not accept a password ({(i.get('accept') or {}).get('status')})")
    ev = {"invitee": i.get("invitee"), "role": i.get("role"), "arrived_s": i.get("arrived_s"),
          "signin": i.get("signin"), "org_matches": i.get("org_matches"), "role_seen": i.get("role_seen")}
    if not (i.get("signin") or {}).get("ok"):
        return failed("the accepted invite gives no working account (sign-in refused)",
                      "create the account at acceptance with the password chosen there", **ev)
    problems = []
    if not i.get("org_matches"):
        problems.append("the invitee is not in the inviting admin's org")
    if not i.get("role_matches"):
        problems.append(f"the invitee's role is {i.get('role_seen')}, not {i.get('role')}")
    foreign = [x for x in i.get("reads", []) if not x["own"] and (200 <= x["status"] < 300 or x["marker"])]
    if foreign:
        problems.append(f"the invitee reads another org's {foreign[0]['path']} ({foreign[0]['status']})")
    if problems:
        return failed("; ".join(problems), "take the org and role of an invite from the inviter's session and the "
                      "invite record, never from the acceptance request", reads=i.get("reads", []), **ev)
    return passed(f"the invitee ({i.get('role')}) is in the inviting org and reads no other org's objects", **ev)


def _plan_auth(p: PortalExpectations):
    if p.mailbox is None or (p.reset is None and p.invite is None):
        return []
    return [Item(p.base_url, (PORTAL,), data=p)]


@check("portal-mail-auth", GROUP, "reset and invite mail pass SPF, DKIM and DMARC, aligned with From",
       plan=portal_plan(_plan_auth))
@_guard
def judge_mail_auth(item: Item, obs) -> Verdict:
    m = observed(item, obs).mail
    if m.get("skipped"):
        return skipped(m["skipped"])
    if m.get("error"):
        raise MailNotChecked(m["error"])
    msgs = m.get("messages") or []
    if not msgs:
        why = "; ".join(m[k]["error"] for k in ("reset", "invite") if (m.get(k) or {}).get("error"))
        raise MailNotChecked(why or "no reset or invite mail was received")
    return judge_messages(msgs)


def judge_messages(msgs: list[dict]) -> Verdict:
    bad, no_ar = [], []
    for x in msgs:
        ar = x.get("ar") or {}
        if not ar:
            no_ar.append(x["journey"])
        wrong = [f"{k}={ar.get(k)}" for k in ("spf", "dkim", "dmarc") if ar and ar.get(k) != "pass"]
        if x["own_dkim"] != "pass":
            wrong.append(f"DKIM checked by verify: {x['own_dkim']}")
        elif not x["aligned"]:
            wrong.append(f"DKIM d={x['dkim_d']} is not aligned with From {x['from_domain']}")
        if wrong:
            bad.append(f"{x['journey']} mail: {', '.join(wrong)}")
    ev = {"messages": [{k: x.get(k) for k in ("journey", "ar", "own_dkim", "dkim_d", "from_domain", "aligned",
                                               "message")} for x in msgs]}
    if bad:
        return failed("; ".join(bad), "sign the portal's mail with DKIM for the From domain (the mail provider's "
                      "selector published in DNS), send through a host the SPF record lists, and keep From on that "
                      "domain so DMARC aligns", **ev)
    if no_ar:
        return warned(f"no Authentication-Results header on the {', '.join(no_ar)} mail: only verify's own DKIM "
                      "check passed", "read the mailbox at a provider that records its verdicts", **ev)
    return passed(f"{len(msgs)} message(s): SPF, DKIM and DMARC pass at the receiver; DKIM verified again, aligned",
                  **ev)


CHECKS = checks_of(judge_reset_link, judge_reset_single_use, judge_reset_expiry, judge_invite, judge_mail_auth)
