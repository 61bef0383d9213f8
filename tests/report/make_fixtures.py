"""Regenerate the recorded result set under tests/report/results/ (run from the repository root):

    python3 tests/report/make_fixtures.py

plan.json and gate.json are what `launchready plan|gate --stack example --format json` write (the
plan document trimmed to its advisories: its resources are not what a report reads); verify.json is
made by hand with the model, as the web and AWS checks will report it: a FAIL, a WARN on a
certificate nearing expiry, an ERROR, a DMARC at p=none and PASSes (verify needs a live world)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from infra.findings import Finding, Location, Report, RuleInfo, Status  # noqa: E402
from infra.findings.render.jsonfmt import render_json  # noqa: E402

STACK_FILE = "stacks/Pulumi.example.yaml"


def _cert(host: str, days: float, status: Status) -> Finding:
    msg = f"valid for {days:.0f} more days" if status is Status.PASS else f"certificate expires in {days:.0f} days (2026-07-01)"
    return Finding(id="tls-certificate-expiry", status=status, area="tls", severity="high", message=msg,
                   remediation="" if status is Status.PASS else "renew the certificate (and check why automatic renewal did not run)",
                   evidence={"subject": f"CN={host}", "issuer": "CN=R11", "names": [host], "not_after": "2026-07-01T00:00:00+00:00",
                             "address": "198.51.100.7:443", "days_left": days},
                   location=Location(file=STACK_FILE, target=host))


def verify_findings(cert_days: dict[str, float] | None = None, hsts_fails: bool = True) -> tuple[Finding, ...]:
    days = cert_days or {"example.com": 74.2, "app.example.com": 21.5, "api.example.com": 80.0}
    certs = tuple(_cert(h, d, Status.PASS if d >= 30 else Status.WARN) for h, d in days.items())
    hsts = (Finding(id="hsts-max-age", status=Status.FAIL, area="tls", severity="high",
                    message="max-age=300, declared 31536000 with includeSubDomains",
                    remediation="serve Strict-Transport-Security: max-age=31536000; includeSubDomains (launchready:tls.hsts)",
                    evidence={"header": "max-age=300"}, location=Location(file=STACK_FILE, target="app.example.com"))
            if hsts_fails else
            Finding(id="hsts-max-age", status=Status.PASS, area="tls", severity="high", message="max-age=31536000; includeSubDomains",
                    evidence={"header": "max-age=31536000; includeSubDomains"}, location=Location(file=STACK_FILE, target="app.example.com")))
    return (
        Finding(id="dns-zone-served", status=Status.PASS, area="dns", severity="critical", message="SOA served",
                evidence={"soa": "ada.ns.cloudflare.com. dns.cloudflare.com."}, location=Location(file=STACK_FILE, target="example.com")),
        Finding(id="spf-strict-all", status=Status.PASS, area="mail", message="SPF ends in -all",
                evidence={"record": "v=spf1 include:_spf.google.com -all"}, location=Location(file=STACK_FILE, target="example.com")),
        Finding(id="dmarc-policy", status=Status.PASS, area="mail", message="DMARC p=none",
                evidence={"policy": "none", "record": "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"},
                location=Location(file=STACK_FILE, target="example.com")),
        hsts,
        *certs,
        Finding(id="latency-p95", status=Status.ERROR, area="perf", message="no answer within 3 s (20 samples)",
                error_type="ProbeTimeout", location=Location(file=STACK_FILE, target="https://app.example.com/dashboard")),
        Finding(id="lcp", status=Status.SKIPPED, area="perf", severity="low", message="no --browser: LCP not measured",
                location=Location(file=STACK_FILE, target="https://example.com/")),
    )


def verify_report(**kw) -> Report:
    findings = verify_findings(**kw)
    rules = tuple({f.id: RuleInfo(id=f.id, area=f.area, title=f.id, severity=f.severity) for f in findings}.values())
    return Report(command="verify", stack="example", findings=findings, rules=rules,
                  subject={"domain": "example.com", "nameservers": [], "started_at": "2026-05-02T09:00:00+00:00",
                           "duration_s": 4.2, "deadline_hit": False, "stackFile": STACK_FILE})


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    for cmd in ("plan", "gate"):
        out = RESULTS / f"{cmd}.json"
        subprocess.run([sys.executable, "-m", "infra.cli", cmd, "--stack", "example", "--format", "json", "--output",
                        str(out), *(["--no-repo-scan"] if cmd == "gate" else [])], cwd=ROOT, check=True)
    plan = json.loads((RESULTS / "plan.json").read_text())
    trimmed = {k: plan[k] for k in ("stack", "zone", "beforeApply", "advisories", "resourceCount")}
    (RESULTS / "plan.json").write_text(json.dumps({**trimmed, "adopts": [], "components": []}, indent=2) + "\n")
    (RESULTS / "verify.json").write_text(render_json(verify_report()))


if __name__ == "__main__":
    main()
