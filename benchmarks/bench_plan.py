"""Wall time, CPU time and peak memory of `launchready plan` for the example stack and generated stacks.

Each measurement is a fresh `python -m infra.cli plan --json` subprocess (imports included, as a
user pays them); CPU and peak memory are that child's own (os.wait4). Run:
  python3 benchmarks/bench_plan.py [--quick] [--only hosts|groups] [--tenants 1000,10000] [--repeat N]
Targets (2-core machine): example < 3 s; 1,000 hosts < 15 s; peak memory < 500 MB; linear growth.
Tenant groups: 1,000 tenants < 15 s and 500 MB; 10,000 tenants < 60 s and 1 GB; flat per-tenant cost.

Per-host rows add tenant hosts (tenantN.example.com, each with login/reset/invite flows) to the
example: today's declaration. "edge" drops the mail, secrets and monitoring sections (the launch
program of issue 2); "full" keeps them, so every host and flow also gets a Route53 health check and two
alarms. Group rows declare N tenants as ONE tenant group (benchkit.py): "explicit" (a record per
tenant) or "wildcard" (one record, N known tenants), always full. The last row renders the largest
explicit group on the console (a group folds into one line there) instead of JSON.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import yaml
from benchkit import ROOT, SECTIONS_BEYOND_EDGE, group_stack, growth, load, run_child

TARGETS = {1000: (15.0, 500.0), 10000: (60.0, 1024.0)}


def generated_stack(n_hosts: int, directory: Path, full: bool = True) -> Path:
    doc = copy.deepcopy(yaml.safe_load((ROOT / "stacks" / "Pulumi.example.yaml").read_text()))
    config = doc["config"]
    if not full:
        for key in SECTIONS_BEYOND_EDGE:
            config.pop(key, None)
    hosts = config["launchready:hosts"]
    for i in range(n_hosts - len(hosts)):
        hosts.append({"name": f"tenant{i}.example.com", "origin": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                      "flows": {"login": "/login", "reset": "/password/reset", "invite": "/invite/accept"}})
    path = directory / f"Pulumi.gen{n_hosts}{'' if full else 'edge'}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def measure(stack: str, fmt: str = "json", repeat: int = 1) -> tuple[float, float, float, int, str]:
    """Best wall of `repeat` runs: (wall, cpu, peak MB, resources, load when it ended)."""
    best = None
    for _ in range(repeat):
        argv = [sys.executable, "-m", "infra.cli", "plan", "--stack", stack, "--format", fmt]
        m = run_child(argv)
        if m.returncode != 0:
            raise SystemExit(f"plan failed for {stack}:\n{m.stderr[-3000:]}")
        count = json.loads(m.stdout)["resourceCount"] if fmt == "json" else -1
        row = (m.wall, m.cpu, m.peak_mb, count, load())
        best = row if best is None or row[0] < best[0] else best
    return best


def verdict(n: int, wall: float, peak: float) -> str:
    if n not in TARGETS:
        return ""
    t_wall, t_mem = TARGETS[n]
    ok = wall < t_wall and peak < t_mem
    return f"{'ok' if ok else 'MISSED'} (<{t_wall:.0f} s, <{t_mem:.0f} MB)"


def rows(args, tmp: Path) -> list[tuple[str, str, int, str, str]]:
    """(label, stack path, tenants or 0, format, kind) in run order."""
    out = [("example", str(ROOT / "stacks" / "Pulumi.example.yaml"), 0, "json", "")]
    if args.only in (None, "hosts"):
        for full in (False, True):
            for n in ((100,) if args.quick else (100, 1000)):
                out.append((f"{n} hosts, {'full' if full else 'edge'}", str(generated_stack(n, tmp, full)), 0, "json", ""))
    if args.only in (None, "groups"):
        for wildcard in (False, True):
            kind = "wildcard" if wildcard else "explicit"
            for n in args.tenants:
                out.append((f"group {n:,} {kind}", str(group_stack(n, tmp, wildcard)), n, "json", kind))
        n = max(args.tenants)
        out.append((f"group {n:,} explicit, console", str(group_stack(n, tmp, False)), n, "console", ""))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stacks only (100 hosts; groups of 100 and 1,000)")
    parser.add_argument("--only", choices=("hosts", "groups"))
    parser.add_argument("--tenants", default=None, help="group sizes, comma-separated (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=1, help="best wall of N runs per row")
    args = parser.parse_args()
    args.tenants = [int(n) for n in (args.tenants or ("100,1000" if args.quick else "1000,10000")).split(",")]
    by_kind: dict[str, list[tuple[int, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'stack':<32} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'resources':>9} {'ms/res':>7} {'load 1/5':>10}  target")
        for label, path, n, fmt, kind in rows(args, Path(tmp)):
            wall, cpu, peak, count, ld = measure(path, fmt, args.repeat)
            per = f"{1000 * wall / count:7.2f}" if count > 0 else f"{'-':>7}"
            print(f"{label:<32} {wall:7.2f} {cpu:7.2f} {peak:8.0f} {count if count >= 0 else '-':>9} {per} {ld:>10}  "
                  f"{verdict(n, wall, peak)}", flush=True)
            if kind:
                by_kind.setdefault(kind, []).append((n, wall, peak))
    for kind, points in by_kind.items():
        if len(points) > 1:
            print(growth(kind, points[0], points[-1]))
    print(f"python {sys.version.split()[0]}; load average (1/5 min) at the end {load()}")


if __name__ == "__main__":
    main()
