"""verify's `portal-browser-journey` (--browser) against the reference portal world, in Debian's Chromium.

The correct portal: signed in, LCP under budget, no console error. The console-error variant (the
dashboard's script logs an error carrying the CSRF token, then throws): FAIL with counts and the first
error, the token taken out. A wrong password: FAIL, the journey did not complete. Without --browser:
SKIPPED with the reason. No password, marker or session value in any format.
"""
from __future__ import annotations

import shutil

import pytest
from worldkit.portalvariants import BROWSER_VARIANTS

from verify.audit import audit
from verify.expectations import from_spec
from verify.model import Status

pytestmark = pytest.mark.world
DEAD_NS = [("127.0.0.1", 9)]
CHROMIUM = shutil.which("chromium")
ID = "portal-browser-journey"


@pytest.fixture
def chromium():
    if not CHROMIUM:
        pytest.skip("Debian chromium not installed (.ci/run installs it)")
    pytest.importorskip("playwright", reason="Playwright not installed (pip install 'launch-ready[browser]')")
    return CHROMIUM


def _run(srv, monkeypatch, browser, **env):
    for k, v in {**srv.env(), **env}.items():
        monkeypatch.setenv(k, v)
    srv.reset_throttle()
    return audit(from_spec(srv.spec(), stack="portal"), nameservers=DEAD_NS, ca_file=srv.ca_file,
                 connect_to=srv.pins(), only=[ID], browser=browser, timeout=5.0, deadline=120.0)


def _one(rep):
    (f,) = [f for f in rep.findings if f.id == ID]
    return f


def test_without_a_browser_it_is_skipped_with_the_reason(portal_world, monkeypatch):
    f = _one(_run(portal_world.server("correct"), monkeypatch, None))
    assert f.status is Status.SKIPPED and "--browser" in f.message


def test_correct_portal_journey_passes(portal_world, monkeypatch, chromium):
    f = _one(_run(portal_world.server("correct"), monkeypatch, chromium))
    assert f.status is Status.PASS, (f.message, f.evidence)
    ev = f.evidence
    assert ev["signed_in"] and ev["signed_in_by"] == "who-am-I" and ev["page"] == "/dashboard"
    assert ev["landed"] == "/dashboard" and 0 < ev["lcp_ms"] < 2500 and "hero" in ev["element"]
    assert ev["console_errors"] == ev["page_errors"] == 0


@pytest.mark.parametrize("variant", BROWSER_VARIANTS, ids=lambda v: v.name)
def test_console_error_fails_with_a_scrubbed_first_error(portal_world, monkeypatch, chromium, variant):
    from infra.findings.render import RENDERERS

    srv = portal_world.server(variant.name)
    rep = _run(srv, monkeypatch, chromium)
    f = _one(rep)
    assert f.status is Status.FAIL and variant.expected_fail == ID, (f.message, f.evidence)
    ev = f.evidence
    assert ev["signed_in"] and ev["console_errors"] >= 1 and ev["page_errors"] == 1, ev
    assert "chart data failed for token <token>" in ev["first_error"] and ev["first_error_page"] == "/dashboard"
    tokens = [t for s in srv.state.sessions.values() for t in (s.id, s.csrf)]
    for render in RENDERERS.values():
        text = render(rep)
        assert not [p for p in srv.passwords.values() if p in text]
        assert not [t for t in tokens if t and t in text]


def test_a_wrong_password_fails_the_journey(portal_world, monkeypatch, chromium):
    srv = portal_world.server("correct")
    first = srv.spec().portal.accounts[0]
    f = _one(_run(srv, monkeypatch, chromium, **{first.password_env: "launchready-wrong-password-1"}))
    assert f.status is Status.FAIL and "did not complete" in f.message, (f.message, f.evidence)
    assert not f.evidence["signed_in"] and f.evidence["page"] == "/login"
    assert "launchready-wrong-password-1" not in f.message + str(f.evidence)


def test_a_missing_password_is_error_naming_the_variable(portal_world, monkeypatch, chromium):
    srv = portal_world.server("correct")
    first = srv.spec().portal.accounts[0]
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv(first.password_env)
    rep = audit(from_spec(srv.spec(), stack="portal"), nameservers=DEAD_NS, ca_file=srv.ca_file,
                connect_to=srv.pins(), only=[ID], browser=chromium, timeout=5.0, deadline=60.0)
    f = _one(rep)
    assert f.status is Status.ERROR and first.password_env in f.message
