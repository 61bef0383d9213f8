"""Wall time and peak memory of `launchready plan` for the example stack and generated stacks.

Each measurement is a fresh `python -m infra.cli plan --json` subprocess (imports included, as a
user pays them); peak memory is the child's max RSS. Run: python3 benchmarks/bench_plan.py
Targets (2-core machine): example < 3 s; 1,000 hosts < 15 s; peak memory < 500 MB; linear growth.
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


def generated_stack(n_hosts: int, directory: Path) -> Path:
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.example.yaml").read_text())
    doc = copy.deepcopy(doc)
    hosts = doc["config"]["launchready:hosts"]
    for i in range(n_hosts - len(hosts)):
        hosts.append({"name": f"tenant{i}.example.com", "origin": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                      "flows": {"login": "/login", "reset": "/password/reset", "invite": "/invite/accept"}})
    path = directory / f"Pulumi.gen{n_hosts}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def measure(stack: str) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", stack, "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"plan failed for {stack}:\n{proc.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    count = proc.stdout.count('"type": ')
    # ru_maxrss of children is the max over all children so far; runs go small to large.
    return wall, max(peak_kb, before) / 1024, count


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [("example", str(ROOT / "stacks" / "Pulumi.example.yaml"))]
        for n in (100, 1000):
            rows.append((f"{n} hosts", str(generated_stack(n, Path(tmp)))))
        print(f"{'stack':<12} {'wall s':>8} {'peak MB':>9} {'resources':>10} {'ms/resource':>12}")
        for label, path in rows:
            wall, peak, count = measure(path)
            print(f"{label:<12} {wall:8.2f} {peak:9.0f} {count:10d} {1000 * wall / max(count, 1):12.2f}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
