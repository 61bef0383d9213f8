"""Benchmark: verify's `tenants` group (the tenant sweep) against a local knotd zone and an nginx wildcard
world of 1,000 and 10,000 tenant hosts: wall and CPU time, peak memory, milliseconds per host.

    python3 benchmarks/bench_verify_tenants.py [--sizes 1000,10000] [--concurrency 16,32]

Each (size, concurrency) runs in a fresh process (so peak RSS is that run's own): it builds the world of
tests/worldkit/tenantworld.py with N known tenants in the wildcard group (plus the explicit group of 5),
then times `audit(..., only=["tenants"])` with one empty-host pin and the world's knotd as --nameserver.
Per host that is one DNS query, one TLS handshake and one GET. CPU is this process's (user + system,
every thread); knotd and nginx run in their own processes and are not counted. The target: a flat
per-host cost, 10,000 tenants well under a few minutes.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test world (tests/worldkit) is not part of the package


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(size: int, concurrency: int) -> dict:
    from worldkit.tenantworld import TenantWorld

    from verify.audit import audit
    from verify.model import Status

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        world = TenantWorld(Path(tmp), tenants=size)
        ns, pins = world.nameserver(), world.pins()
        setup_s = time.perf_counter() - t
        rss_before = _rss_mb()
        try:
            t, c = time.perf_counter(), time.process_time()
            rep = audit(world.exp, nameservers=[ns], connect_to=pins, ca_file=world.ca_file, only=["tenants"],
                        timeout=3.0, deadline=900.0, tenant_concurrency=concurrency)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
        finally:
            world.stop()
    bad = [(f.id, f.target, f.message[:300]) for f in rep.findings if f.status not in (Status.PASS, Status.SKIPPED)]
    hosts = size + 5
    return {"size": size, "concurrency": concurrency, "hosts": hosts, "setup_s": round(setup_s, 2),
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "per_host_ms": round(wall * 1000 / hosts, 2),
            "cpu_per_host_ms": round(cpu * 1000 / hosts, 2), "rss_before_mb": round(rss_before, 1),
            "peak_rss_mb": round(_rss_mb(), 1), "not_pass": bad}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--concurrency", default="16")
    ap.add_argument("--one", nargs=2, type=int, metavar=("SIZE", "CONCURRENCY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
        return 0
    print(f"{'tenants':>8} {'conc':>4} {'setup s':>8} {'wall s':>7} {'cpu s':>7} {'ms/host':>8} {'cpu ms/host':>11} "
          f"{'RSS before':>10} {'peak RSS':>9}  result")
    code = 0
    for size in (int(x) for x in args.sizes.split(",")):
        for conc in (int(x) for x in args.concurrency.split(",")):
            out = subprocess.run([sys.executable, __file__, "--one", str(size), str(conc)], capture_output=True,
                                 text=True, timeout=3600)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            verdict = "all PASS" if not r["not_pass"] else f"NOT PASS: {r['not_pass']}"
            code = code or (1 if r["not_pass"] else 0)
            print(f"{r['size']:>8,} {r['concurrency']:>4} {r['setup_s']:>8.2f} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} "
                  f"{r['per_host_ms']:>8.2f} {r['cpu_per_host_ms']:>11.2f} {r['rss_before_mb']:>8.1f}MB "
                  f"{r['peak_rss_mb']:>7.1f}MB  {verdict}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
