"""`--since`: an earlier report and a later one; the later says what changed: a new failure, a
fixed item, a certificate's days left going down (and one renewed)."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import verify_report  # noqa: E402

from infra.findings import Status  # noqa: E402
from infra.findings.render.jsonfmt import render_json  # noqa: E402

pytestmark = pytest.mark.unit


def _earlier_verify():
    """A week earlier: HSTS was right, SPF was broken, the certificates had more days (api's fewer: renewed since)."""
    rep = verify_report(cert_days={"example.com": 81.2, "app.example.com": 31.5, "api.example.com": 12.0}, hsts_fails=False)
    findings = tuple(replace(f, status=Status.FAIL, message="SPF ends in +all", remediation="end SPF in -all")
                     if f.id == "spf-strict-all" else f for f in rep.findings)
    return replace(rep, findings=findings)


def test_since_says_what_changed(report, results, tmp_path):
    (results / "verify.json").write_text(render_json(_earlier_verify()))
    code, out, _ = report("--results", str(results), "--format", "json")
    assert code == 1                                  # SPF failed a week ago
    earlier = tmp_path / "earlier.json"
    earlier.write_text(out)

    later = tmp_path / "later"
    later.mkdir()
    for name in ("plan.json", "gate.json"):
        (later / name).write_text((results / name).read_text())
    (later / "verify.json").write_text(render_json(verify_report()))
    code, out, _ = report("--results", str(later), "--since", str(earlier), "--format", "json")
    changes = json.loads(out)["subject"]["changes"]
    assert [(c["id"], c["where"], c["before"]) for c in changes["newFailures"]] == [("hsts-max-age", "app.example.com", "PASS")]
    assert sorted((c["id"], c["where"], c["before"]) for c in changes["fixed"]) == [
        ("spf-strict-all", "example.com", "FAIL"), ("tls-certificate-expiry", "api.example.com", "WARN")]  # renewed
    certs = {c["host"]: c for c in changes["certificates"]}
    assert (certs["example.com"]["before"], certs["example.com"]["now"], certs["example.com"]["renewed"]) == (81.2, 74.2, False)
    assert certs["app.example.com"]["change"] == -10.0
    assert certs["api.example.com"]["renewed"] is True
    assert [c["id"] for c in changes["newWarnings"]] == ["tls-certificate-expiry"]   # app.example.com fell under 30 days

    _, md, _ = report("--results", str(later), "--since", str(earlier), "--format", "md")
    section = md.split("## What changed", 1)[1]
    assert "| new FAIL (was PASS) | `hsts-max-age` |" in section
    assert "| fixed (was FAIL) | `spf-strict-all` |" in section
    assert "| certificate days left down | `tls-certificate-expiry` | example.com | 81.2 → 74.2 days left |" in section
    assert "certificate renewed" in section


def test_since_refuses_what_is_not_a_report(report, results, tmp_path):
    bad = tmp_path / "earlier.json"
    bad.write_text("[]")
    code, _, err = report("--results", str(results), "--since", str(bad))
    assert code == 2 and "--since" in err and "earlier.json" in err
