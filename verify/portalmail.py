"""The portal's mail journeys, as a user lives them: password reset and invite end to end through the
test accounts' real inbox (verify.portalimap), for the portal probe (verify.probes.portalprobes).

State-changing: run only with --active, and on a production stack only with allowActiveInProduction.
The reset journey sets the account's password to the one its environment variable holds (so every
test account is left as it was found) and proves that sign-in still works; the invite journey invites
a fresh plus-address of the mailbox user (the invitee stays in the portal: there is no declared way
to remove it). The result is plain data: statuses, timings, hashes, header verdicts; never a token,
a link's token, a password or a message body. Every wait is bounded by `reset.within` (mail) and
`reset.tokenLifetime` (expiry, only when it is at most EXPIRY_MAX_S).
"""
from __future__ import annotations

import email
import imaplib
import json
import re
import secrets
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from .portalclient import Jar, MissingPassword, body_shape, csrf_token, digest, password_of, sign_in, stranger
from .portalexpect import Account, PortalExpectations
from .portalimap import (
    Inbox,
    MailboxError,
    aligned,
    auth_results,
    find_link,
    from_domain,
    own_dkim,
)
from .webclient import WebError

EXPIRY_MAX_S = 30
INVITE_WITHIN_S = 120
_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{16,}")
_REFUSAL = re.compile(r"(?i)expired|invalid|error|used")


class _Forms(HTMLParser):
    """The page's first POST form: action, hidden fields (name -> value), password inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict | None = None
        self._in = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form is None and a.get("method", "get").lower() == "post":
            self.form, self._in = {"action": a.get("action", ""), "hidden": {}, "passwords": []}, True
        elif tag == "input" and self._in and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                self.form["hidden"][a["name"]] = a.get("value", "")
            elif kind == "password":
                self.form["passwords"].append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in = False


def _refused(ctx, exp: PortalExpectations) -> str:
    if not getattr(ctx, "active", False):
        return "state-changing probes are opt-in: run verify with --active"
    return exp.active_refused() or ""


def mail_journeys(ctx, exp: PortalExpectations) -> dict:
    """{} when the portal declares no mailbox and no reset or invite; else what the journeys saw."""
    if exp.mailbox is None or (exp.reset is None and exp.invite is None):
        return {}
    why = _refused(ctx, exp)
    if why:
        return {"skipped": why}
    try:
        inbox = Inbox(ctx.web, exp.mailbox, max(ctx.timeout, 5.0))
    except (MailboxError, MissingPassword) as e:
        return {"error": str(e)}
    out: dict = {"messages": []}
    try:
        for name, journey in (("reset", _reset), ("invite", _invite)):
            if getattr(exp, name) is None:
                continue
            out[name] = {}
            try:
                journey(ctx, exp, inbox, out)
            except (MissingPassword, MailboxError, WebError, imaplib.IMAP4.error, OSError) as e:
                out[name]["error"] = f"{type(e).__name__}: {e}"
    finally:
        inbox.close()
    return out


def request_reset(ctx, exp: PortalExpectations, address: str) -> dict:
    """Ask for a reset link for `address` the way the portal's page does; status and body shape."""
    jar, s = Jar(ctx.web), exp.session
    url = exp.base_url + exp.reset.request_path
    fields = {exp.reset.email_field: address}
    if s.kind == "form" and s.csrf_field:
        page = jar.request("GET", url)
        forms = _Forms()
        forms.feed(page.text())
        token = (forms.form or {}).get("hidden", {}).get(s.csrf_field)
        if token is not None:
            fields[s.csrf_field] = token
    t0 = time.perf_counter()
    if s.kind == "form":
        r = jar.request("POST", url, headers=(("Origin", exp.base_url),), form=fields)
    else:
        r = jar.request("POST", url, headers=(("Origin", exp.base_url),), json_body=fields)
    return {"status": r.status, "body": body_shape(r.text(), address), "location": digest(r.location or ""),
            "ms": round((time.perf_counter() - t0) * 1000, 1)}


def _reset(ctx, exp: PortalExpectations, inbox: Inbox, out: dict) -> None:
    r = out["reset"]
    account = next((a for a in exp.accounts if exp.mailbox.receives(a.username)), None)
    if account is None:
        r["skipped"] = f"no test account receives mail at the mailbox ({exp.mailbox.username} or a plus-address of it)"
        return
    r["account"] = account.name
    password = password_of(account)
    ghost = stranger(account, f"nobody-{digest(account.username)}").username
    since = inbox.mark()
    out["reset_enum"] = {"unknown": request_reset(ctx, exp, ghost), "known": request_reset(ctx, exp, account.username)}
    status = out["reset_enum"]["known"]["status"]
    if not 200 <= status < 400:
        r["error"] = f"the reset request for {account.name} answered {status}"
        return
    raw, waited, _uid = inbox.wait_for(account.username, since, exp.reset.within)
    if raw is None:
        r["error"] = f"no reset mail for {account.name} reached the mailbox within {exp.reset.within} s"
        return
    r["arrived_s"] = waited
    out["messages"].append(message_auth(ctx, "reset", raw))
    link = find_link(raw)
    r["link"] = describe_link(link)
    if link is None:
        return
    jar = Jar(ctx.web)
    page, form = open_link(jar, exp, link)
    r["page_status"] = page
    if form is None:
        r["first_use"] = {"status": page, "accepted": False}
    else:
        r["first_use"] = submit(jar, exp, form, password)
        if r["first_use"]["accepted"]:
            r["reuse"] = submit(jar, exp, form, password)   # the same link, used a second time
    after, _jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, account)
    r["signin_after"] = {"status": after.status, "ok": after.ok}
    r["expiry"] = _expiry(ctx, exp, inbox, account, password)


def _expiry(ctx, exp: PortalExpectations, inbox: Inbox, account: Account, password: str) -> dict:
    """A second link, opened in time and submitted after tokenLifetime (+1 s): it must be refused."""
    life = exp.reset.token_lifetime
    if life > EXPIRY_MAX_S:
        return {"skipped": f"reset.tokenLifetime is {life} s: verify waits at most {EXPIRY_MAX_S} s for a link to "
                           "expire (check expiry by hand, or declare a shorter lifetime on a test stack)"}
    since = inbox.mark()
    asked = request_reset(ctx, exp, account.username)
    answered = time.monotonic()
    raw, _waited, _uid = inbox.wait_for(account.username, since, exp.reset.within)
    if raw is None:
        return {"error": f"the second reset mail (for the expiry test) did not arrive within {exp.reset.within} s "
                         f"(request answered {asked['status']})"}
    link = find_link(raw)
    if link is None:
        return {"error": "the second reset mail carries no link"}
    jar = Jar(ctx.web)
    page, form = open_link(jar, exp, link)
    if form is None:
        return {"error": f"the second reset link was refused before its lifetime ended ({page})"}
    time.sleep(max(0.0, answered + life + 1.0 - time.monotonic()))
    late = submit(jar, exp, form, password)
    return {"waited_s": round(time.monotonic() - answered, 1), "lifetime_s": life, **late}


def describe_link(link: str | None) -> dict:
    """The link without its secret: scheme, host, path with token-like parts replaced, a hash of the query."""
    if link is None:
        return {}
    p = urlsplit(link)
    return {"scheme": p.scheme.lower(), "host": (p.hostname or "").lower(), "path": _TOKENISH.sub("<token>", p.path),
            "query": digest(p.query) if p.query else ""}


def portal_url(exp: PortalExpectations, link: str) -> str:
    """Where verify uses a mailed link: on the portal's own host over https, whatever the mail says (a
    link on another host or on http is reported by portal-reset-link; its token is never sent there)."""
    p = urlsplit(link)
    hosts = {urlsplit(exp.base_url).hostname, urlsplit(exp.api_base_url).hostname}
    base = f"https://{p.netloc}" if p.hostname in hosts else exp.base_url
    return base + (p.path or "/") + (f"?{p.query}" if p.query else "")


def open_link(jar: Jar, exp: PortalExpectations, link: str) -> tuple[int, dict | None]:
    """(status, the page's POST form with an absolute action) for a mailed link."""
    url = portal_url(exp, link)
    r = jar.request("GET", url)
    if not 200 <= r.status < 300:
        return r.status, None
    forms = _Forms()
    forms.feed(r.text())
    if forms.form is None or not forms.form["passwords"]:
        return r.status, None
    form = dict(forms.form)
    form["action"] = portal_url(exp, urljoin(url, form["action"] or url))
    return r.status, form


def accepted(status: int, location: str | None) -> bool:
    if 200 <= status < 300:
        return True
    return 300 <= status < 400 and not _REFUSAL.search(location or "")


def submit(jar: Jar, exp: PortalExpectations, form: dict, password: str) -> dict:
    fields = {**form["hidden"], **{name: password for name in form["passwords"]}}
    r = jar.request("POST", form["action"], headers=(("Origin", exp.base_url),), form=fields)
    return {"status": r.status, "accepted": accepted(r.status, r.location)}


def message_auth(ctx, journey: str, raw: bytes) -> dict:
    """The receiving server's verdicts and verify's own DKIM check of one message."""
    own, d = own_dkim(raw, ctx.dns)
    fd = from_domain(raw)
    mid = email.message_from_bytes(raw).get("Message-ID", "")
    return {"journey": journey, "ar": auth_results(raw), "own_dkim": own, "dkim_d": d, "from_domain": fd,
            "aligned": aligned(d, fd), "message": digest(str(mid))}


def _whoami(jar: Jar, exp: PortalExpectations) -> dict:
    r = jar.request("GET", exp.api_base_url + exp.session.whoami_path)
    try:
        who = json.loads(r.text())
    except ValueError:
        return {}
    if not isinstance(who, dict):
        return {}
    org = next((who[k] for k in ("org", "organization", "tenant", "orgId", "org_id", "team") if k in who), None)
    role = next((who[k] for k in ("role", "roles") if k in who), None)
    return {"org": org, "role": role}


def _invite(ctx, exp: PortalExpectations, inbox: Inbox, out: dict) -> None:
    inv = out["invite"]
    admin = next((a for a in exp.accounts if a.role in exp.admin_roles), None)
    if not exp.mailbox.plus_addressing or admin is None:
        inv["skipped"] = ("the mailbox has no plus-addressing: no fresh address to invite" if admin else
                          "no test account has an admin role to invite with")
        return
    signed, jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, admin)
    if not signed.ok:
        inv["error"] = f"the inviting admin {admin.name} could not sign in ({signed.status})"
        return
    inviter = _whoami(jar, exp)
    token = csrf_token(jar, exp.session, exp.base_url, exp.api_base_url)
    hs = ((exp.session.csrf_header, token),) if token and exp.session.csrf_header else ()
    tag = f"launchready-{secrets.token_hex(4)}"
    address = exp.mailbox.plus(tag)
    since = inbox.mark()
    r = jar.request("POST", exp.api_base_url + exp.invite.path, headers=(*hs, ("Origin", exp.base_url)),
                    json_body={exp.invite.email_field: address, exp.invite.role_field: exp.invite.role})
    inv.update({"inviter": admin.name, "invitee": tag, "role": exp.invite.role, "request_status": r.status})
    if not 200 <= r.status < 300:
        inv["error"] = f"the invite request by {admin.name} answered {r.status}"
        return
    within = exp.reset.within if exp.reset else INVITE_WITHIN_S
    raw, waited, _uid = inbox.wait_for(address, since, within)
    if raw is None:
        inv["error"] = f"no invite mail reached the mailbox within {within} s"
        return
    inv["arrived_s"] = waited
    out["messages"].append(message_auth(ctx, "invite", raw))
    _accept(ctx, exp, inv, find_link(raw), admin, address, inviter)


def _accept(ctx, exp: PortalExpectations, inv: dict, link: str | None, admin: Account, address: str,
            inviter: dict) -> None:
    inv["link"] = describe_link(link)
    if link is None:
        inv["error"] = "the invite mail carries no link"
        return
    jar, password = Jar(ctx.web), secrets.token_urlsafe(18)
    page, form = open_link(jar, exp, link)
    if form is None:
        inv["error"] = f"the invite link shows no password form ({page})"
        return
    inv["accept"] = submit(jar, exp, form, password)
    invitee = Account("invitee", admin.org, exp.invite.role, address, "")
    signed, ijar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, invitee, password=password)
    inv["signin"] = {"status": signed.status, "ok": signed.ok}
    if not signed.ok:
        return
    who = _whoami(ijar, exp)
    inv["org_matches"] = who.get("org") is not None and who.get("org") == inviter.get("org")
    roles = who.get("role") if isinstance(who.get("role"), list) else [who.get("role")]
    inv["role_seen"] = [str(x) for x in roles if x is not None][:4]
    inv["role_matches"] = exp.invite.role in inv["role_seen"]
    inv["reads"] = []
    for ep in exp.objects:
        for owner, object_id in ep.ids:
            rr = ijar.request("GET", ep.url(exp.api_base_url, object_id))
            inv["reads"].append({"owner": owner, "own": owner == admin.org, "path": ep.path, "status": rr.status,
                                 "marker": exp.marker(owner) in rr.text()})
