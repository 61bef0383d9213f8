"""Shared by bench_plan.py and bench_gate.py: generated tenant-group stacks and one measured child.

A tenant-group stack is the example stack plus ONE group `tenants` of N tenant hosts
`tNNNNN.portal.example.com` (login, reset and invite flows, like the per-host rows), declared either
explicitly (`tenants: [...]`, one DnsRecord each) or as a wildcard (`wildcard: true`, one
`*.portal.example.com` record, the N tenants listed as the known ones). A group redirect
(/signin → /login on every tenant) exercises the group's edge expression; the example's rate limits on
/login, /password/reset and /invite/accept cover the group through its flows. "full" keeps the mail,
secrets and monitoring sections (monitors watch the group's `sample`, not every tenant).
"""
from __future__ import annotations

import copy
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"
SECTIONS_BEYOND_EDGE = ("launchready:mail", "launchready:secrets", "launchready:monitoring")
TENANT_FLOWS = {"login": "/login", "reset": "/password/reset", "invite": "/invite/accept"}


def group_stack(n_tenants: int, directory: Path, wildcard: bool, full: bool = True) -> Path:
    """The example stack with one tenant group of `n_tenants` known tenants."""
    doc = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    config = doc["config"]
    if not full:
        for key in SECTIONS_BEYOND_EDGE:
            config.pop(key, None)
    group = {"name": "tenants", "domain": f"portal.{config['launchready:domain']}", "origin": "portal-lb.example.net",
             "flows": dict(TENANT_FLOWS), "tenants": [f"t{i:05d}" for i in range(n_tenants)], "sample": 2}
    if wildcard:
        group["wildcard"] = True
    config["launchready:tenantGroups"] = [group]
    config.setdefault("launchready:redirects", []).append({"from": "/signin", "to": "/login", "group": "tenants"})
    kind = "wild" if wildcard else "explicit"
    path = directory / f"Pulumi.group{n_tenants}{kind}{'' if full else 'edge'}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class Measured:
    wall: float        # seconds, interpreter start included
    cpu: float         # user + system seconds of the child
    peak_mb: float     # the child's own maximum resident set size
    stdout: str
    returncode: int
    stderr: str


def run_child(argv: list[str], timeout: float = 900) -> Measured:
    """Run one child process and measure it alone (os.wait4: its own rusage, not the max over
    every child so far, so rows may run in any order)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err, text=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                raise SystemExit(f"timed out after {timeout:.0f} s: {' '.join(argv)}")
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read(),
                        proc.returncode, err.read())


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def growth(label: str, small: tuple[int, float, float], large: tuple[int, float, float]) -> str:
    """Per-tenant cost between two sizes: (tenants, wall s, peak MB) each."""
    (n0, w0, m0), (n1, w1, m1) = small, large
    dn = max(1, n1 - n0)
    return (f"  growth {label}: {1000 * (w1 - w0) / dn:.3f} ms and {1024 * (m1 - m0) / dn:.1f} KB per tenant "
            f"({n0:,} → {n1:,})")
