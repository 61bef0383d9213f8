"""The Pulumi SDK's own cost per resource under the mock runtime: a bare program registering N
cloudflare.DnsRecords (one zone, one parent component, the inputs a tenant record has) and nothing else.

  python3 benchmarks/bench_sdk_records.py [--sizes 1000,10000]

Two monitors: "launchready" is the one `plan` and `gate` use (infra.mockrun: mocks that echo inputs,
plus recording every registration as a PlannedResource); "sdk" is the SDK's plain MockMonitor, which
records nothing of ours. Each row is a fresh interpreter; CPU and peak RSS are the child's own. The
per-record growth between the sizes is the floor under `plan`'s and `gate`'s per-tenant cost for an
explicit tenant group (one DnsRecord per tenant).
"""
from __future__ import annotations

import argparse
import json
import sys

from benchkit import growth, load, run_child

CHILD = r"""
import gc, json, logging, resource, sys, time, warnings
warnings.simplefilter("ignore")
import pulumi, pulumi_cloudflare as cloudflare
from pulumi.runtime import mocks as pmocks, settings as psettings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from infra.mockrun import _Mocks, _Monitor
n, mode = int(sys.argv[1]), sys.argv[2]
recorded = {}
mocks = _Mocks(recorded)
monitor = _Monitor(mocks) if mode == "launchready" else pmocks.MockMonitor(mocks)
logging.getLogger("pulumi").setLevel(logging.ERROR)
pulumi.runtime.set_mocks(mocks, project="launchready", stack="bench", preview=True, monitor=monitor)

class Records(pulumi.ComponentResource):
    def __init__(self, name):
        super().__init__("launchready:dns:Records", name, None, None)
        zone = cloudflare.Zone("zone", name="example.com", account={"id": "0" * 32}, opts=pulumi.ResourceOptions(parent=self))
        for i in range(n):
            cloudflare.DnsRecord(f"cname-t{i:05d}.portal.example.com", zone_id=zone.id, name=f"t{i:05d}.portal.example.com",
                                 type="CNAME", content="portal-lb.example.net", ttl=1, proxied=True,
                                 comment="tenant group tenants (proxied)", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})

def program():
    Records("dns")
    return pulumi.Output.from_input(1)

t0 = time.perf_counter()
gc.disable()  # as infra.mockrun does for the run
_sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
print(json.dumps({"seconds": time.perf_counter() - t0, "registered": len(monitor.resources),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    print(f"{'monitor':<12} {'records':>8} {'wall s':>7} {'cpu s':>7} {'in run s':>8} {'peak MB':>8} {'ms/rec':>7} {'load 1/5':>10}")
    for mode in ("launchready", "sdk"):
        points = []
        for n in sizes:
            m = run_child([sys.executable, "-c", CHILD, str(n), mode])
            if m.returncode != 0:
                raise SystemExit(m.stderr[-3000:])
            data = json.loads(m.stdout.strip().splitlines()[-1])
            print(f"{mode:<12} {n:>8,} {m.wall:7.2f} {m.cpu:7.2f} {data['seconds']:8.2f} {m.peak_mb:8.0f} "
                  f"{1000 * data['seconds'] / n:7.2f} {load():>10}", flush=True)
            points.append((n, data["seconds"], m.peak_mb))
        if len(points) > 1:
            print(growth(f"{mode} (per record, run only)", points[0], points[-1]))


if __name__ == "__main__":
    main()
