"""`launchready plan` as a user runs it: a subprocess, no credentials, no network."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def launchready(*args, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_", "AWS_"))}
    env["COLUMNS"] = "160"
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_plan_example_reads_like_a_launch_plan():
    proc = launchready("plan", "--stack", "example")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Launch plan for stack example" in out
    assert "ssl = strict" in out and "min_tls_version = 1.2" in out
    assert "www.example.com → example.com, path and query kept" in out
    assert "10 POST requests / 60s per IP on /login" in out
    assert "A app.example.com → 203.0.113.20 (proxied)" in out
    assert "Traceback" not in proc.stderr


def test_plan_json_is_machine_readable():
    proc = launchready("plan", "--stack", "example", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    types = [r["type"] for c in doc["components"] for r in c["resources"]]
    assert types.count("cloudflare:index/ruleset:Ruleset") == 5
    assert doc["resourceCount"] == len(types)
    assert doc["outputs"]["launchContract"]["domain"] == "example.com"


def test_plan_bad_spec_prints_errors_and_exits_non_zero(tmp_path):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  launchready:domain: example.com\n  launchready:hosts:\n"
                   "    - name: app..example.com\n      origin: 203.0.113.1\n")
    proc = launchready("plan", "--stack", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:4: hosts[0].name: 'app..example.com' is not a valid hostname" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_plan_unknown_stack():
    proc = launchready("plan", "--stack", "nosuch")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "stacks/Pulumi.nosuch.yaml: stack file not found"


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_plan_output_goes_to_the_file_in_every_format(tmp_path, fmt):
    target = tmp_path / f"plan.{fmt}"
    proc = launchready("plan", "--stack", "example", "--format", fmt, "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "app.example.com" in target.read_text()


def test_plan_unwritable_output_is_one_line_exit_2(tmp_path):
    proc = launchready("plan", "--stack", "example", "--output", str(tmp_path / "no" / "such" / "dir" / "plan.txt"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
