"""The `portal-browser-journey` judge and the console-message scrubber, without a network or a browser."""
from __future__ import annotations

import pytest

from verify.checks.portalbrowser import BROWSER, judge_browser_journey
from verify.model import Status
from verify.portalexpect import Account, PortalExpectations, SessionShape
from verify.probes.browserprobes import BrowserJourney, scrub
from verify.registry import Item, Observations

pytestmark = pytest.mark.unit
EXP = PortalExpectations(
    base_url="https://app.example.com", api_base_url="https://api.example.com", session=SessionShape(),
    orgs=(("acme", "ACME-1234"), ("globex", "GLOBEX-5678")),
    accounts=(Account("acme-admin", "acme", "admin", "a@example.com", "PW_A"),
              Account("globex-op", "globex", "operator", "g@example.com", "PW_G")),
    flows=("/api/projects", "/dashboard"))
GOOD = BrowserJourney("acme-admin", landed="/dashboard", page="/dashboard", signed_in=True, signed_in_by="who-am-I",
                      whoami=(200,), lcp_ms=420.0, element="img#hero")


def judge(o):
    return judge_browser_journey(Item(EXP.base_url, (BROWSER,), data=EXP), Observations.of({BROWSER: o}))


def test_a_signed_in_fast_clean_journey_passes():
    v = judge(GOOD)
    assert v.status is Status.PASS and v.evidence["lcp_ms"] == 420 and "first_error" not in v.evidence


def test_without_a_browser_it_is_skipped_with_the_reason():
    v = judge(BrowserJourney("acme-admin", skipped="no browser: pass --browser"))
    assert v.status is Status.SKIPPED and "--browser" in v.message


@pytest.mark.parametrize(("change", "words"), [
    ({"signed_in": False, "signed_in_by": "", "page": "/login", "whoami": (401,)}, "did not complete"),
    ({"lcp_ms": 3100.0}, "over 2500 ms"),
    ({"console_errors": 2, "first_error": "boom", "first_error_page": "/dashboard"}, "2 console error(s)"),
    ({"page_errors": 1, "first_error": "TypeError: x is null", "first_error_page": "/dashboard"}, "uncaught"),
])
def test_each_problem_fails_with_a_remediation(change, words):
    v = judge(GOOD.__class__(**{**GOOD.__dict__, **change}))
    assert v.status is Status.FAIL and words in v.message and v.remediation


def test_every_problem_is_named_at_once():
    v = judge(GOOD.__class__(**{**GOOD.__dict__, "lcp_ms": 4000.0, "console_errors": 1, "first_error": "x"}))
    assert "LCP" in v.message and "console error" in v.message


def test_signed_in_without_lcp_is_could_not_check():
    with pytest.raises(RuntimeError, match="no LCP"):
        judge(GOOD.__class__(**{**GOOD.__dict__, "lcp_ms": None, "detail": "no largest-contentful-paint entry"}))


def test_scrub_takes_out_secrets_queries_and_tokens():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"  # pragma: allowlist secret
    text = (f"Uncaught Error: bad token {jwt} at https://app.example.com/assets/app.js?session=abc123def456 "
            "for a@example.com with hunter2-password csrf=Zx81kPqR0mN7sT4vW2yB")
    out = scrub(text, "hunter2-password", "a@example.com")
    for secret in ("hunter2-password", "a@example.com", "abc123def456", "Zx81kPqR0mN7sT4vW2yB", "SflKxwRJSMeKKF2QT4fw"):
        assert secret not in out
    assert out.startswith("Uncaught Error: bad token") and "/assets/app.js?…" in out
    assert len(scrub("x" * 1000)) == 200
