"""DKIM checks (group "mail"): a key per declared selector, not revoked, strong, the declared one,
usable for email, and delegated selectors pointing at the provider. Keys are parsed with `cryptography`."""
from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from infra.knowledge.mailrecords import announces, colon_list, dkim_near_misses, dkim_tags, looks_like_dkim_key

from ..expectations import DkimExpectation, Expectations, MailExpectations
from ..model import Verdict, failed, passed, skipped
from ..registry import Item, NotApplicable, ProbeFailed, check, checks_of, key
from .common import GROUP, with_mail


@with_mail
def _plan_dkim(exp: Expectations, m: MailExpectations):
    out: list = [Item(d.name, (key("rr", d.name, "TXT"),), data=d) for d in m.dkim]
    if m.ses_dkim_pending:
        out.append(NotApplicable("SES DKIM selectors are tokens known only after apply: pass --outputs "
                                 "(pulumi stack output --json) to check them", f"ses._domainkey.{m.domain}"))
    return out or NotApplicable("no DKIM selectors declared", exp.domain)


def _dkim_record(item: Item, obs) -> tuple[str | None, dict[str, str], object]:
    ans = obs[key("rr", item.data.name, "TXT")].checked()
    if ans.status != "ok":
        return None, {}, ans
    texts = ans.texts()
    dk = [t for t in texts if looks_like_dkim_key(t) or announces(t, "DKIM1")]
    return (dk[0] if dk else None), (dkim_tags(dk[0]) if dk else {}), ans


def _selector_domain(d: DkimExpectation) -> str:
    return d.name.split("._domainkey.", 1)[1] if "._domainkey." in d.name else d.name


@with_mail
def _plan_dkim_present(exp: Expectations, m: MailExpectations):
    """dkim-present also asks where a missing key was published by mistake (a few names per selector)."""
    plan = _plan_dkim(exp)
    if isinstance(plan, NotApplicable):
        return plan
    out = []
    for it in plan:
        if isinstance(it, Item):
            near = tuple(dkim_near_misses(it.data.selector, _selector_domain(it.data), m.domain))
            it = Item(it.target, (*it.needs, key("near-miss", "dkim", it.data.name, near)), data=it.data)
        out.append(it)
    return out


def _misplaced(item: Item, obs) -> tuple[str, ...]:
    """Where the missing key was published instead; a hint only, so a probe that did not finish is no hint."""
    k = next((k for k in item.needs if k.kind == "near-miss"), None)
    try:
        return tuple(obs[k]) if k is not None else ()
    except ProbeFailed:
        return ()


def _missing(d: DkimExpectation, ans, hint: str, misplaced: tuple[str, ...]) -> Verdict:
    why = "the name does not exist" if ans.status == "nxdomain" else "no DKIM TXT record"
    instead = ""
    if misplaced:
        reasons = dkim_near_misses(d.selector, _selector_domain(d), "")
        found = ", ".join(f"{n} ({'the zone name was appended twice' if n.startswith(d.name + '.') else reasons.get(n, '?')})"
                          for n in misplaced)
        instead = f"; the key is published at {found} instead, where verifiers never look"
        hint = f"move it: {hint}, and delete the record at {', '.join(misplaced)}"
    return failed(f"selector {d.selector}: {why} at {d.name}{instead}; mail signed with it fails DKIM", hint,
                  queried=f"{d.name} TXT", answer=ans.status, cname_chain=list(ans.cname_chain), misplaced=list(misplaced))


@check("dkim-present", GROUP, "A DKIM key is published for each declared selector", plan=_plan_dkim_present)
def judge_dkim_present(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, ans = _dkim_record(item, obs)
    hint = (f"publish {d.name} CNAME {d.cname_target}" if d.cname_target else
            f"publish the {d.provider or 'provider'}'s DKIM key at {d.name} (TXT v=DKIM1; k=rsa; p=...)")
    if text is None:
        return _missing(d, ans, hint, _misplaced(item, obs))
    keys = [t for t in ans.texts() if looks_like_dkim_key(t)]
    if len(keys) > 1:
        return failed(f"selector {d.selector}: {len(keys)} DKIM records at {d.name}; verifiers pick one at random, so "
                      "some signatures fail (a key split into several records instead of several strings, or an old key left)",
                      "keep exactly one TXT record at the selector: " + hint, records=keys)
    if tags.get("v", "DKIM1").upper() != "DKIM1" or "p" not in tags:
        return failed(f"selector {d.selector}: record is not a DKIM key: {text[:80]}", hint, record=text)
    via = f" via CNAME {' -> '.join(ans.cname_chain)}" if ans.cname_chain else ""
    return passed(f"selector {d.selector} published{via}", cname_chain=list(ans.cname_chain))


@check("dkim-not-revoked", GROUP, "DKIM keys are not revoked (empty p=)", plan=_plan_dkim)
def judge_dkim_revoked(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or "p" not in tags:
        return skipped("no DKIM key (reported by dkim-present)")
    if tags["p"] == "":
        return failed(f"selector {d.selector} is revoked (p= is empty): signatures with it fail",
                      f"publish the current key for {d.selector}, or sign with a live selector and remove {d.selector} from the stack",
                      record=text)
    return passed(f"selector {d.selector} has a key")


def dkim_key_info(tags: dict[str, str]) -> tuple[str, int | None]:
    """('rsa', bits) | ('ed25519', 256); raises ValueError when p= is not a usable key."""
    k = tags.get("k", "rsa").lower()
    raw = base64.b64decode(tags["p"], validate=True)
    if k == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
        return "ed25519", 256
    if k != "rsa":
        raise ValueError(f"unknown key type k={k}")
    pub = load_der_public_key(raw)
    if not isinstance(pub, rsa.RSAPublicKey):
        raise ValueError(f"k=rsa but the key is {type(pub).__name__}")
    return "rsa", pub.key_size


@check("dkim-key-strength", GROUP, "DKIM keys are RSA >= 2048 bits or Ed25519", plan=_plan_dkim)
def judge_dkim_strength(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    try:
        kind, bits = dkim_key_info(tags)
    except (ValueError, TypeError) as e:
        return failed(f"selector {d.selector}: the public key does not parse ({e}): receivers cannot verify any signature",
                      f"republish the {d.provider or 'provider'}'s key for {d.selector} exactly as given "
                      "(one TXT record; a long key split into 255-byte strings, not into separate records)",
                      record=text, p_length=len(tags.get("p", "")))
    if kind == "rsa" and bits < 2048:
        return failed(f"selector {d.selector}: RSA key of {bits} bits (< 2048; 1024-bit keys are factorable and some receivers reject them)",
                      f"rotate {d.selector} to a 2048-bit RSA key at the provider and publish it", bits=bits, key_type=kind)
    return passed(f"selector {d.selector}: {kind} {bits} bits", bits=bits, key_type=kind)


def _key_fingerprint(p: str) -> str:
    try:
        raw = base64.b64decode(p, validate=True)
    except ValueError:
        raw = p.encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


@with_mail
def _plan_dkim_declared_key(exp: Expectations, m: MailExpectations):
    items = [Item(d.name, (key("rr", d.name, "TXT"),), data=d) for d in m.dkim if d.public_key]
    return items or NotApplicable("no DKIM key declared in the stack (delegated selectors are judged by dkim-cname-target)",
                                  exp.domain)


@check("dkim-key-match", GROUP, "The published DKIM key is the one the stack declares", plan=_plan_dkim_declared_key)
def judge_dkim_key_match(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    live, want = tags["p"], "".join(d.public_key.split())
    if live != want:
        try:
            dkim_key_info(tags)
        except (ValueError, TypeError):
            return skipped("the published key does not parse (reported by dkim-key-strength)")
    if live == want:
        return passed(f"selector {d.selector}: the declared key is published", key=_key_fingerprint(live))
    return failed(f"selector {d.selector}: the published key is not the declared one (a rotation half done, or a stale "
                  f"record): mail signed with the {d.provider or 'provider'}'s current key fails DKIM",
                  f"publish {d.name} TXT with the declared key (run `pulumi up`), or update the stack if the provider rotated it",
                  live_key=_key_fingerprint(live), declared_key=_key_fingerprint(want))


@check("dkim-key-usable", GROUP, "DKIM keys are not in testing mode and allow SHA-256 email signatures", plan=_plan_dkim)
def judge_dkim_usable(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    problems = []
    flags = colon_list(tags.get("t", ""))
    if "y" in flags:
        problems.append("t=y (testing: receivers must treat its signatures as if the mail were unsigned, RFC 6376 3.6.1)")
    hashes = colon_list(tags.get("h", ""))
    if hashes and "sha256" not in hashes:
        problems.append(f"h={tags['h']} (only SHA-1, which verifiers must not accept, RFC 8301)")
    services = colon_list(tags.get("s", ""))
    if services and "*" not in services and "email" not in services:
        problems.append(f"s={tags['s']} (not usable for email)")
    if problems:
        return failed(f"selector {d.selector}: " + "; ".join(problems),
                      f"republish {d.name} without those tags (v=DKIM1; k={tags.get('k', 'rsa')}; p=...)", record=text)
    return passed(f"selector {d.selector} is usable for email" + (f" (t={tags['t']})" if flags else ""))


@with_mail
def _plan_dkim_cname(exp: Expectations, m: MailExpectations):
    items = [Item(d.name, (key("rr", d.name, "CNAME"), key("rr", d.name, "TXT")), data=d) for d in m.dkim if d.cname_target]
    if m.ses_dkim_pending:
        items.append(NotApplicable("SES DKIM tokens unknown: pass --outputs", f"ses._domainkey.{m.domain}"))
    return items or NotApplicable("no CNAME-delegated DKIM selectors declared", exp.domain)


def _txt_copy(item: Item, obs) -> str | None:
    """The DKIM TXT published directly at a delegated selector (no CNAME on the way), if any."""
    text, _, ans = _dkim_record(item, obs)
    if text is None or ans.cname_chain:
        return None
    return text


@check("dkim-cname-target", GROUP, "Delegated DKIM selectors point at the provider (SES tokens)", plan=_plan_dkim_cname)
def judge_dkim_cname(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    ans = obs[key("rr", d.name, "CNAME")].checked()
    live = [x.rstrip(".").lower() for x in ans.records]
    if ans.status != "ok":
        copy = _txt_copy(item, obs)
        if copy is not None:
            return failed(f"selector {d.selector}: {d.name} is a TXT record (a copy of the key: {copy[:60]}...), not a CNAME to "
                          f"{d.cname_target}: when {d.provider or 'the provider'} rotates the key, DNS keeps the old one "
                          "and signatures start failing",
                          f"delete the TXT record at {d.name} and publish {d.name} CNAME {d.cname_target}",
                          selector=d.selector, found="TXT", record=copy[:120], expected=d.cname_target)
        return skipped(f"no CNAME at {d.name} (presence is judged by dkim-present)")
    if d.cname_target in live:
        return passed(f"{d.name} -> {d.cname_target}")
    return failed(f"{d.name} points at {', '.join(live)}; expected {d.cname_target}",
                  f"publish {d.name} CNAME {d.cname_target}", live=live, expected=d.cname_target)


CHECKS = checks_of(judge_dkim_present, judge_dkim_revoked, judge_dkim_strength, judge_dkim_key_match, judge_dkim_usable,
                   judge_dkim_cname)
