"""Cache checks (group "cache"): static assets cached at the edge with the declared TTLs; a user's data never
stored by a shared cache, never served to another user or an anonymous client, not even through a
static-looking suffix (web cache deception); unkeyed headers never poison a cached copy (--active).

Judges are pure over verify.probes.cacheprobes observations. Evidence holds statuses, cache-status values,
Cache-Control values, whether a marker appeared and URLs the probe made up: never a body, a cookie or a marker.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..model import Verdict, failed, passed, skipped, warned
from ..portalclient import MissingPassword
from ..portalexpect import PortalExpectations
from ..probes.cacheprobes import AssetScan, DeceptionObservation, PoisonObservation, PrivateObservation, Reply
from ..registry import Item, NotApplicable, check, checks_of, key
from .webcommon import directives, with_web

GROUP = "cache"
LONG_MAX_AGE = 30 * 86400        # below this, a fingerprinted asset is re-fetched needlessly
YEAR = 31536000
# A hash in the file name: 8+ hex digits, or 8+ letters and digits mixed (webpack, Vite, Next, Rails).
_HEX = re.compile(r"^[0-9a-f]{8,}$", re.I)
_MIXED = re.compile(r"^(?=[A-Za-z0-9_]*[0-9])(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}$")


def fingerprinted(url: str) -> bool:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    parts = re.split(r"[.\-~]", stem)
    return any(_HEX.match(p) or (_MIXED.match(p) and len(p) <= 64) for p in parts[1:] or parts)


def max_age(cache_control: str, name: str = "max-age") -> int | None:
    v = directives(cache_control.replace(",", ";")).get(name)
    return int(v) if v is not None and v.isdigit() else None


def _uncacheable(cc: str) -> list[str]:
    d = directives(cc.replace(",", ";"))
    return [n for n in ("no-store", "private", "no-cache") if n in d]


# ------------------------------------------------------------------------------ 1. static assets

def _plan_assets(exp, web):
    out: list[Item | NotApplicable] = []
    for h in web.served:
        if h.api:
            continue
        if not h.proxied:
            out.append(NotApplicable("DNS-only host: no edge cache in front of it", h.name))
            continue
        urls = tuple(f"https://{h.name}{p}" for p in h.pages)
        out.append(Item(h.name, (key("cache-assets", h.name, urls, web.cache.static_paths),), data=web.cache))
    return out or NotApplicable("no proxied host serves pages", exp.domain)


def asset_problems(url: str, replies: tuple[Reply, ...], rules) -> tuple[list[str], list[str]]:
    """(failures, warnings) of one asset."""
    last, cc = replies[-1], replies[-1].cache_control
    name, bad, warn = urlsplit(url).path, [], []
    if not any(r.stored for r in replies[1:]):
        seen = ", ".join(r.cache_status or (f"Age {r.age}" if r.age is not None else "no cache status")
                         for r in replies)
        bad.append(f"{name} is not served from the edge cache after a warm-up ({seen})")
    if _uncacheable(cc):
        bad.append(f"{name} says Cache-Control: {cc}")
    age = max_age(cc)
    if fingerprinted(url):
        if age is None or age < LONG_MAX_AGE:
            bad.append(f"{name} has a hash in its name but max-age {age if age is not None else 'none'} "
                       f"(at least {LONG_MAX_AGE} s, a year usual)")
        elif "immutable" not in cc.lower():
            warn.append(f"{name} has a hash in its name but no `immutable`")
    if rules.browser_ttl and (age is None or age < rules.browser_ttl):
        bad.append(f"{name}: max-age {age} below the declared browser TTL {rules.browser_ttl} s")
    edge = [v for v in (max_age(cc, "s-maxage"), max_age(last.edge_control)) if v is not None]
    if edge and min(edge) < rules.static_ttl:
        bad.append(f"{name}: edge TTL {min(edge)} s below the declared staticTtl {rules.static_ttl} s")
    return bad, warn


@check("cache-static-assets", GROUP, "static assets of the main pages are cached at the edge, long-lived when fingerprinted",
       plan=with_web(_plan_assets))
def judge_static_assets(item: Item, obs) -> Verdict:
    scan: AssetScan = obs[item.needs[0]]
    if not scan.assets:
        if scan.page_errors:
            raise ConnectionError("; ".join(scan.page_errors[:3]))
        return skipped("the main pages load no same-origin static asset")
    bad, warn, judged = [], [], 0
    for a in scan.assets:
        if a.replies[0].status != 200:
            continue   # a missing asset is not a caching question
        judged += 1
        b, w = asset_problems(a.url, a.replies, item.data)
        bad += b
        warn += w
    evidence = {"assets": [{"url": a.url, "statuses": [r.status for r in a.replies],
                            "cache_status": [r.cache_status for r in a.replies],
                            "cache_control": a.replies[-1].cache_control} for a in scan.assets]}
    if not judged:
        raise ConnectionError(f"no static asset answered 200 ({len(scan.assets)} tried)")
    if bad:
        return failed("; ".join(bad[:4]) + (f" (+{len(bad) - 4} more)" if len(bad) > 4 else ""),
                      "cache the static paths at the edge (cache.staticPaths, staticTtl) and serve fingerprinted "
                      "files with `Cache-Control: public, max-age=31536000, immutable`", **evidence)
    if warn:
        return warned("; ".join(warn[:4]), "add `immutable` to fingerprinted assets' Cache-Control", **evidence)
    return passed(f"{judged} static asset(s) served from the edge cache with the declared lifetimes", **evidence)


# ------------------------------------------------------------------------------ portal-backed plans

def _portal_plan(probe_kind: str):
    def plan(exp):
        p: PortalExpectations | None = getattr(exp, "portal", None)
        if p is None or not p.accounts:
            return NotApplicable("no test accounts declared (portal section)", exp.domain)
        return [Item(p.base_url, (key(probe_kind),), data=p)]
    return plan


def _not_signed_in(why: str) -> Verdict:
    """A missing password or an unreachable portal is could-not-check; a refused sign-in is portal-login's."""
    if "MissingPassword" in why:
        raise MissingPassword(why)
    if "not signed in" not in why:
        raise ConnectionError(why)
    return skipped(f"no test account could sign in (reported by portal-login): {why}")


def _evidence(r: Reply) -> dict:
    return {"status": r.status, "cache_status": r.cache_status, "cache_control": r.cache_control, "vary": r.vary,
            "marker": r.marker}


def private_problems(e: dict) -> list[str]:
    owner, path = e["owner"], urlsplit(e["url"]).path
    out = []
    if not 200 <= owner.status < 300:
        return out
    if not set(_uncacheable(owner.cache_control)) & {"private", "no-store"}:
        out.append(f"{path}: Cache-Control {owner.cache_control or '(none)'} lets a shared cache store it")
    hits = [who for who in ("owner", "again", "other", "anonymous") if who in e and e[who].hit]
    if hits:
        out.append(f"{path}: a shared-cache HIT ({', '.join(hits)})")
    if "other" in e and e["other"].marker:
        out.append(f"{path}: another user received the first user's data")
    if e["anonymous"].marker:
        out.append(f"{path}: an anonymous client received the first user's data")
    return out


@check("cache-private-data", GROUP, "signed-in pages and API answers are never stored by a shared cache",
       plan=_portal_plan("cache-private"))
def judge_private_data(item: Item, obs) -> Verdict:
    o: PrivateObservation = obs[item.needs[0]]
    if not o.accounts:
        return _not_signed_in("; ".join(o.signin_errors.values()) or "no test account")
    answered = [e for e in o.urls if 200 <= e["owner"].status < 300]
    if not answered:
        raise ConnectionError("no signed-in page or API answer came back 2xx: nothing to judge "
                              f"({', '.join(str(e['owner'].status) for e in o.urls)})")
    bad = [p for e in answered for p in private_problems(e)]
    evidence = {"accounts": list(o.accounts),
                "urls": [{"url": e["url"], **{who: _evidence(e[who]) for who in ("owner", "again", "other", "anonymous")
                                              if who in e}} for e in o.urls]}
    if bad:
        return failed("; ".join(bad[:4]), "send `Cache-Control: private, no-store` on every signed-in page and API "
                      "answer, and bypass the edge cache for requests carrying the session cookie or Authorization "
                      "(cache.sessionCookie; api hosts never cached)", **evidence)
    who = "two users" if len(o.accounts) > 1 else "one user"
    return passed(f"{len(answered)} signed-in answer(s) private, never a shared-cache HIT ({who})", **evidence)


# ------------------------------------------------------------------------------ 3. web cache deception

@check("cache-deception", GROUP, "authenticated paths with a static-looking suffix are never stored by the edge",
       plan=_portal_plan("cache-deception"))
def judge_deception(item: Item, obs) -> Verdict:
    o: DeceptionObservation = obs[item.needs[0]]
    if o.signin_error:
        return _not_signed_in(o.signin_error)
    leaks = [t for t in o.tries if t["attacker"].marker or (t["attacker"].hit and t["victim"].marker)]
    evidence = {"account": o.account, "tries": [
        {"path": t["path"], "suffix": t["form"], "victim": _evidence(t["victim"]),
         "attacker": _evidence(t["attacker"])} for t in o.tries],
        "plain": {path: _evidence(r) for path, r in o.plain.items()}}
    shared = {path for path, r in o.plain.items() if r.marker}
    if leaks and all(t["path"] in shared for t in leaks):
        # the path leaks without any suffix: one fault, reported once (by cache-private-data)
        return skipped(f"{', '.join(sorted(shared))} reach(es) an anonymous client without any suffix "
                       "(reported by cache-private-data)", **evidence)
    leaks = [t for t in leaks if t["path"] not in shared]
    if leaks:
        named = ", ".join(f"{t['path']} + {t['form']}" for t in leaks[:4])
        return failed(f"the edge stored a signed-in answer and served it to an anonymous client: {named}",
                      "never cache by file extension alone: bypass the cache for requests carrying the session "
                      "cookie, cache only the declared static paths, and make the origin answer 404 for unknown "
                      "suffixes", **evidence)
    served = sum(1 for t in o.tries if t["victim"].marker)
    return passed(f"{len(o.tries)} static-looking suffixes tried ({served} served the signed-in page); none reached "
                  "an anonymous client", **evidence)


# ------------------------------------------------------------------------------ 4. cache poisoning

def _plan_poison(exp, web):
    return [Item(h.name, (key("cache-poison", f"https://{h.name}{h.pages[0]}"),)) for h in web.served if h.pages] \
        or NotApplicable("no host serves pages", exp.domain)


@check("cache-poisoning", GROUP, "unkeyed request headers never poison the cached copy (--active)",
       plan=with_web(_plan_poison))
def judge_poisoning(item: Item, obs) -> Verdict:
    o: PoisonObservation = obs[item.needs[0]]
    if o.skipped:
        return skipped(o.skipped)
    bad = []
    for t in o.tries:
        if t.poisoned.error or t.clean.error:
            raise ConnectionError(t.poisoned.error or t.clean.error)
        if t.clean.marker:
            bad.append(f"{t.header}: a clean request got the injected value back")
        elif t.clean.hit and t.clean.status == t.poisoned.status != t.baseline.status:
            bad.append(f"{t.header}: a clean request got the poisoned answer ({t.poisoned.status} instead of "
                       f"{t.baseline.status})")
    evidence = {"url": o.url, "tries": [{"header": t.header, "poisoned": _evidence(t.poisoned),
                                         "clean": _evidence(t.clean), "baseline": _evidence(t.baseline)}
                                        for t in o.tries]}
    if bad:
        return failed("; ".join(bad), "key the cache on every header the origin reads, or have the edge overwrite "
                      "or drop X-Forwarded-Host, X-Original-URL and X-Forwarded-Scheme before the origin", **evidence)
    return passed(f"{len(o.tries)} unkeyed headers tried under cache-busters; no clean request was poisoned",
                  **evidence)


CHECKS = checks_of(judge_static_assets, judge_private_data, judge_deception, judge_poisoning)
