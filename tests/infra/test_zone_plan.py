"""The program sends what the zone's plan accepts, and the plan output names the plan."""
from __future__ import annotations

import json

from infra.mockrun import PlanRun
from infra.planview import zone_line

from .test_edge import ruleset
from .test_plan_cli import launchready


def _limits(run: PlanRun) -> dict[str, dict]:
    return {r["expression"]: r for r in ruleset(run, "http_ratelimit")["rules"]}


def test_challenge_sends_timeout_zero_below_enterprise(example_run):
    # The example needs Business (five rules, methods); its /v1/ limit is a managed challenge.
    rules = list(_limits(example_run).values())
    challenge = next(r for r in rules if r["action"] == "managed_challenge")
    assert challenge["ratelimit"]["mitigationTimeout"] == 0
    login = next(r for r in rules if '"/login"' in r["expression"])
    assert login["action"] == "block" and login["ratelimit"]["mitigationTimeout"] == 600


def test_enterprise_keeps_the_challenge_duration(run_with):
    def edit(c):
        c["launchready:zone"]["plan"] = "enterprise"
    run = run_with(edit)
    challenge = next(r for r in _limits(run).values() if r["action"] == "managed_challenge")
    assert challenge["ratelimit"]["mitigationTimeout"] == 600
    assert run.outputs["launchContract"]["zonePlan"] == {"plan": "enterprise", "declared": True, "neededBy": []}


def test_zone_line_names_the_plan_and_why(example_run):
    assert zone_line(example_run) == (
        "zone example.com: existing, looked up in Cloudflare at deploy time (not created); Cloudflare plan Business "
        "(derived: a rate limit per request method, 5 rate-limiting rules; declare zone.plan to have the gate check "
        "your real plan)")


def test_plan_cli_shows_the_plan_tier():
    proc = launchready("plan", "--stack", "staging", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["zone"].endswith("Cloudflare plan Business (declared in zone.plan)")
    assert doc["outputs"]["launchContract"]["zonePlan"]["plan"] == "business"
