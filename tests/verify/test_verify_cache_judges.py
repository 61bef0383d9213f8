"""The cache judges over hand-made observations: no network."""
from __future__ import annotations

import pytest

from verify.checks import cachechecks as cc
from verify.model import Status
from verify.portalclient import MissingPassword
from verify.probes.cacheprobes import (
    AssetObs,
    AssetScan,
    DeceptionObservation,
    PoisonObservation,
    PoisonTry,
    PrivateObservation,
    Reply,
    says_hit,
)
from verify.registry import Item, Observations, key
from verify.webexpect import CacheRules

pytestmark = pytest.mark.unit
IMMUTABLE = "public, max-age=31536000, immutable"
HIT, MISS = "cf-cache-status: HIT", "cf-cache-status: MISS"


def _assets(*assets, rules=None, errors=()):
    k = key("cache-assets", "example.com", ("https://example.com/",), ())
    obs = Observations.of({k: AssetScan("example.com", ("https://example.com/",), tuple(assets), errors)})
    return cc.judge_static_assets(Item("example.com", (k,), data=rules or CacheRules()), obs)


def _asset(url="https://example.com/assets/app.3f9a1c2b.js", cc_=IMMUTABLE, statuses=(MISS, HIT), **kw):
    return AssetObs(url, tuple(Reply(200, s, cache_control=cc_, **kw) for s in statuses))


@pytest.mark.parametrize("value,hit", [
    (HIT, True), (MISS, False), ("cf-cache-status: DYNAMIC", False), ("cf-cache-status: EXPIRED", False),
    ("cf-cache-status: STALE", True), ("x-cache: Hit from cloudfront", True), ("x-cache: MISS, HIT", True),
    ("x-cache: HIT, MISS", False), ("cache-status: Edge; hit", True), ("cache-status: Edge; fwd=miss", False),
    ("x-cache: TCP_HIT", True), ("", False)])
def test_cache_status_words(value, hit):
    assert says_hit(value) is hit


@pytest.mark.parametrize("name,fp", [
    ("app.3f9a1c2b.js", True), ("index-BrX9v2Qk.js", True), ("main.a1b2c3d4e5f6a7b8.css", True),
    ("hero.9c1e.png", False), ("logo.png", False), ("jquery-3.7.1.min.js", False), ("bootstrap.min.css", False)])
def test_fingerprinted_names(name, fp):
    assert cc.fingerprinted(f"https://example.com/assets/{name}") is fp


def test_cached_long_lived_assets_pass():
    assert _assets(_asset(), _asset("https://example.com/assets/logo.png", "public, max-age=86400")).status is Status.PASS


def test_an_age_header_counts_as_stored():
    assert _assets(_asset(statuses=("", ""), age=12)).status is Status.PASS


@pytest.mark.parametrize("asset,word", [
    (_asset(statuses=(MISS, MISS, MISS)), "not served from the edge cache"),
    (_asset(statuses=("", "", "")), "no cache status"),
    (_asset(cc_="public, max-age=300"), "max-age 300"),
    (_asset(cc_="no-store"), "no-store"),
    (_asset(cc_="public, max-age=31536000, immutable, s-maxage=60"), "edge TTL 60"),
])
def test_uncached_or_short_lived_assets_fail(asset, word):
    v = _assets(asset)
    assert v.status is Status.FAIL and word in v.message


def test_the_declared_browser_ttl_is_honoured():
    plain = _asset("https://example.com/assets/logo.png", "public, max-age=3600")
    assert _assets(plain, rules=CacheRules(browser_ttl=86400)).status is Status.FAIL
    assert _assets(plain, rules=CacheRules(browser_ttl=600)).status is Status.PASS


def test_missing_immutable_is_a_warning_and_nothing_found_is_skipped_or_error():
    assert _assets(_asset(cc_="public, max-age=31536000")).status is Status.WARN
    assert _assets().status is Status.SKIPPED
    with pytest.raises(ConnectionError):
        _assets(errors=("GET https://example.com/: refused",))


# ------------------------------------------------------------------ private data

PRIVATE = key("cache-private")


def _private(**entry):
    base = {"url": "https://api.example.com/api/me", "owner": Reply(200, "", cache_control="no-store", marker=True),
            "again": Reply(200, "", cache_control="no-store", marker=True), "other": Reply(200, ""),
            "anonymous": Reply(401, "")}
    o = PrivateObservation(accounts=("acme-admin", "globex-client"), urls=[{**base, **entry}])
    return cc.judge_private_data(Item("https://app.example.com", (PRIVATE,)), Observations.of({PRIVATE: o}))


def test_private_answers_pass():
    assert _private().status is Status.PASS
    assert _private(owner=Reply(200, "cf-cache-status: BYPASS", cache_control="private", marker=True)).status \
        is Status.PASS


@pytest.mark.parametrize("entry,word", [
    ({"again": Reply(200, HIT, cache_control="no-store", marker=True)}, "HIT"),
    ({"owner": Reply(200, "", cache_control="public, max-age=60", marker=True)}, "lets a shared cache"),
    ({"other": Reply(200, "", marker=True)}, "another user"),
    ({"anonymous": Reply(200, "", marker=True)}, "anonymous"),
])
def test_private_answers_stored_or_shared_fail(entry, word):
    v = _private(**entry)
    assert v.status is Status.FAIL and word in v.message


def test_private_sign_in_problems_are_errors_or_skipped():
    def judge(errors):
        o = PrivateObservation(signin_errors=errors)
        return cc.judge_private_data(Item("x", (PRIVATE,)), Observations.of({PRIVATE: o}))
    with pytest.raises(MissingPassword):
        judge({"a": "MissingPassword: PW_A is not set"})
    with pytest.raises(ConnectionError):
        judge({"a": "WebError: refused"})
    assert judge({"a": "a: not signed in (login 401, who-am-I 401)"}).status is Status.SKIPPED


# ------------------------------------------------------------------ deception and poisoning

DECEPTION, POISON = key("cache-deception"), key("cache-poison", "https://example.com/")


def _deception(victim, attacker):
    o = DeceptionObservation(account="acme-admin", tries=[{"path": "/dashboard", "form": "/launchready-<random>.css",
                                                          "url": "u", "victim": victim, "attacker": attacker}])
    return cc.judge_deception(Item("x", (DECEPTION,)), Observations.of({DECEPTION: o}))


def test_deception():
    assert _deception(Reply(200, "", marker=True), Reply(302, "")).status is Status.PASS
    assert _deception(Reply(404, ""), Reply(404, HIT)).status is Status.PASS   # a stored 404 leaks nothing
    assert _deception(Reply(200, MISS, marker=True), Reply(200, HIT, marker=True)).status is Status.FAIL
    assert _deception(Reply(200, MISS, marker=True), Reply(200, HIT)).status is Status.FAIL


def _poison(*tries, skipped=""):
    o = PoisonObservation("https://example.com/", tuple(tries), skipped)
    return cc.judge_poisoning(Item("example.com", (POISON,)), Observations.of({POISON: o}))


def test_poisoning():
    ok = PoisonTry("X-Forwarded-Host", Reply(200, MISS, marker=True), Reply(200, MISS), Reply(200, MISS))
    assert _poison(ok).status is Status.PASS
    reflected = PoisonTry("X-Forwarded-Host", Reply(200, MISS, marker=True), Reply(200, HIT, marker=True),
                          Reply(200, MISS))
    assert _poison(reflected).status is Status.FAIL
    redirected = PoisonTry("X-Forwarded-Scheme", Reply(301, MISS), Reply(301, HIT), Reply(200, MISS))
    assert _poison(redirected).status is Status.FAIL
    assert _poison(skipped="opt-in: --active").status is Status.SKIPPED
    with pytest.raises(ConnectionError):
        _poison(PoisonTry("X-Forwarded-Host", Reply(0, error="refused"), Reply(0, error="refused"), Reply(0)))


def test_deception_on_a_path_shared_without_suffix_is_reported_once():
    o = DeceptionObservation(account="acme-admin", plain={"/dashboard": Reply(200, HIT, marker=True)},
                             tries=[{"path": "/dashboard", "form": ";launchready-<random>.js", "url": "u",
                                     "victim": Reply(200, MISS, marker=True), "attacker": Reply(200, HIT, marker=True)}])
    v = cc.judge_deception(Item("x", (DECEPTION,)), Observations.of({DECEPTION: o}))
    assert v.status is Status.SKIPPED and "cache-private-data" in v.message
