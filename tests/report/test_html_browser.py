"""The HTML handover in a real browser: headless Debian Chromium (never a downloaded build) renders the
file, a screenshot is taken, the key sections are found in the DOM, and the page asks for nothing
but itself (no stylesheet, font, script or image from anywhere)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.world

CHROMIUM = os.environ.get("LAUNCHREADY_CHROMIUM", "/usr/bin/chromium")
SECTIONS = {"summary": "Summary", "declared": "Declared", "verified": "Verified", "broken": "Broken — how to fix",
            "watch": "Watch", "manual": "Manual checks", "changes": "What changed"}


@pytest.fixture
def chromium():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail("no Chromium at /usr/bin/chromium: .ci/run installs Debian's chromium")
        pytest.skip("no Chromium installed")
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def test_html_renders_in_chromium_self_contained_with_every_section(report, results, tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "handover.html"
    code, _, err = report("--results", str(results), "--format", "html", "--output", str(page_file))
    assert code == 1 and str(page_file) in err
    url = page_file.as_uri()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            page.screenshot(path=str(tmp_path / "handover.png"), full_page=True)
            headings = {sid: page.locator(f"section#{sid} > h2").inner_text() for sid in SECTIONS}
            verdict = page.locator(".verdict").inner_text()
            broken = page.locator("section#broken").inner_text()
            watch = page.locator("section#watch").inner_text()
            manual = page.locator("section#manual li").all_inner_texts()
            links = page.evaluate("Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href'))")
        finally:
            browser.close()
    assert headings == SECTIONS
    assert "Not ready" in verdict
    assert "hsts-max-age" in broken and "How to fix" in broken and "latency-p95" in broken
    assert "app.example.com" in watch and "21.5" in watch and "p=none" in watch
    assert any("Registrar lock" in m for m in manual) and any("DS record" in m for m in manual)
    assert requests == [url]                              # the file itself, nothing else
    assert all(link.startswith("#") for link in links)     # only in-page anchors
    assert (tmp_path / "handover.png").stat().st_size > 10_000
