"""Wall time and peak memory of `launchready gate` for the example stack and a generated 1,000-host stack.

  python benchmarks/bench_gate.py [--hosts 1000] [--repeat 3] [--scaling]

Each run is a fresh interpreter (as in CI): `python -m infra.cli gate --stack ... --format json`, with
the repository secret scan on. Wall time includes interpreter start and imports; peak memory is the
child's maximum resident set size. Targets on the 2-core machine: example < 4 s, 1,000 hosts < 20 s.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
from policies.gate import GateOptions, run_gate
result = run_gate(GateOptions(stack=sys.argv[1], root=sys.argv[2]))
print(json.dumps({"seconds_in_gate": time.perf_counter() - t0, "exit": result.exit_code,
                  "resources": result.resources, "mandatory": len(result.mandatory), "advisory": len(result.advisory),
                  "errors": result.errors[:3], "timings": result.timings, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generated_stack(hosts: int, directory: Path) -> Path:
    """The example stack with `hosts` portal hosts (each with a login flow) instead of four."""
    text = EXAMPLE.read_text()
    end = text.index("  launchready:redirects:")
    # the example's four hosts stay as they are; tenant hosts are appended to the list
    lines = [text[:end].rstrip("\n")]
    for i in range(hosts - 4):
        lines += [f"    - name: tenant{i:04d}.example.com", f"      origin: 198.51.{100 + i // 250}.{i % 250 + 1}",
                  "      flows:", "        login: /login"]
    text = "\n".join(lines) + "\n\n" + text[end:]
    # tenant hosts share the /login limit (no hosts: list = every host serving the path)
    path = directory / f"Pulumi.bench-{hosts}.yaml"
    path.write_text(text)
    return path


def measure(stack: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(stack), str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall_seconds"] = wall
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true",
                        help="also run half as many hosts, to show the gate's own part grows linearly")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("example", EXAMPLE, 4.0)]
        if args.scaling:
            half = max(5, args.hosts // 2)
            cases.append((f"{half} hosts", generated_stack(half, Path(tmp)), 20.0))
        cases.append((f"{args.hosts} hosts", generated_stack(args.hosts, Path(tmp)), 20.0))
        owns: list[tuple[int, float]] = []
        print(f"launchready gate benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]}, best of {args.repeat})")
        print(f"{'stack':<12} {'resources':>9} {'wall s':>8} {'in gate s':>10} {'peak MB':>8} {'target':>8}  verdict")
        print("  (in gate = imports + program under mocks + rules + scans; the split is printed below each row)")
        for label, stack, target in cases:
            runs = [measure(stack) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["wall_seconds"])
            peak = max(r["peak_mb"] for r in runs)
            ok = best["wall_seconds"] < target
            print(f"{label:<12} {best['resources']:>9} {best['wall_seconds']:>8.2f} {best['seconds_in_gate']:>10.2f} "
                  f"{peak:>8.0f} {target:>7.0f}s  {'ok' if ok else 'SLOW'} (exit {best['exit']}, "
                  f"{best['mandatory']} mandatory, {best['advisory']} advisory{', errors: ' + str(best['errors']) if best['errors'] else ''})")
            timings = best.get("timings", {})
            split = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
            own = timings.get("rules", 0.0) + timings.get("scans", 0.0)
            print(f"  {split}; the gate's own part (rules + scans) {1000 * own / max(1, best['resources']):.2f} ms per resource")
            owns.append((best["resources"], own))
    # The program's mock run (infra/) dominates; the gate's own part must stay linear in the stack size.
    if len(owns) > 1:
        (n0, t0), (n1, t1) = owns[-2], owns[-1]
        print(f"gate's own part: {n1 / n0:.1f}x the resources took {t1 / max(t0, 1e-9):.1f}x the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
