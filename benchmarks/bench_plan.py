"""Wall time, CPU time and peak memory of `launchready plan` for the example stack and generated stacks.

Each measurement is a fresh `python -m infra.cli plan --json` subprocess (imports included, as a
user pays them); peak memory is the child's max RSS. Run: python3 benchmarks/bench_plan.py [--quick]
Targets (2-core machine): example < 3 s; 1,000 hosts < 15 s; peak memory < 500 MB; linear growth.

Generated stacks add tenant hosts (tenantN.example.com, each with login/reset/invite flows) to the
example. "edge" drops the mail, secrets and monitoring sections (the launch program of issue 2);
"full" keeps them, so every host and flow also gets a Route53 health check and two alarms.
"""
from __future__ import annotations

import copy
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SECTIONS_BEYOND_EDGE = ("launchready:mail", "launchready:secrets", "launchready:monitoring")


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


def measure(stack: str) -> tuple[float, float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", stack, "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"plan failed for {stack}:\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # ru_maxrss of children is the max over all children so far; runs go small to large.
    return wall, cpu, after.ru_maxrss / 1024, proc.stdout.count('"urn": ')


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (100,) if quick else (100, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [("example", str(ROOT / "stacks" / "Pulumi.example.yaml"))]
        for full in (False, True):
            for n in sizes:
                rows.append((f"{n} hosts, {'full' if full else 'edge'}", str(generated_stack(n, Path(tmp), full))))
        print(f"{'stack':<22} {'wall s':>8} {'cpu s':>7} {'peak MB':>9} {'resources':>10} {'ms/resource':>12}")
        for label, path in rows:
            wall, cpu, peak, count = measure(path)
            print(f"{label:<22} {wall:8.2f} {cpu:7.2f} {peak:9.0f} {count:10d} {1000 * wall / max(count, 1):12.2f}")
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average {load:.2f} at the end")


if __name__ == "__main__":
    main()
