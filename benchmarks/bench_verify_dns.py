"""Benchmark: `launchready verify` (DNS + mail groups) against the local knotd world, beside the
checkdmarc command line on the same domain and server, in one run, as a ratio.

    python3 benchmarks/bench_verify_dns.py [--runs 5]

checkdmarc's CLI cannot take a port (--nameserver is IP only), so knotd also listens on
127.0.0.1:53 when this process may bind it (root); otherwise the CLI is run through a two-line shim
that sets dnspython's default port to knotd's, which is the same CLI code path.
Both tools start cold each run (checkdmarc: a new process; verify: its answer cache cleared).
"""
from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test world (tests/worldkit) is not part of the package

from worldkit.world import build_world, domain_for  # noqa: E402

from verify.audit import audit  # noqa: E402


def can_bind_53() -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 53))
        return True
    except OSError:
        return False


SHIM = ("import sys, dns.nameserver as n; p=int(sys.argv.pop(1)); o=n.Do53Nameserver.__init__\n"
        "def i(self, address, port=p, *a, **k): o(self, address, port, *a, **k)\n"
        "n.Do53Nameserver.__init__=i\nfrom checkdmarc._cli import _main; sys.argv[0]='checkdmarc'; _main()\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    port53 = can_bind_53()
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(Path(tmp), variants=(), stacks_dir=REPO / "stacks",
                            extra_listen=("127.0.0.1@53",) if port53 else ())
        try:
            d = domain_for(None)
            exp = world.domains[d].exp
            verify_times, cd_times, cd_inproc = [], [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                rep = audit(exp, nameservers=world.nameservers, connect_to=world.connect_to(), ca_file=world.ca_file,
                            only=["dns", "mail"], timeout=2.0)
                verify_times.append(time.perf_counter() - t)
                assert rep.exit_code == 0, [r for r in rep.findings if r.status.value in ("FAIL", "ERROR")]
                if port53:
                    cmd = ["checkdmarc", d, "--nameserver", "127.0.0.1", "-f", "json"]
                else:
                    cmd = [sys.executable, "-c", SHIM, str(world.knot.port), d, "--nameserver", "127.0.0.1", "-f", "json"]
                t = time.perf_counter()
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                cd_times.append(time.perf_counter() - t)
                import checkdmarc
                import checkdmarc.utils
                import dns.nameserver
                checkdmarc.utils.DNS_CACHE.clear()
                t = time.perf_counter()
                checkdmarc.check_domains([d], nameservers=[dns.nameserver.Do53Nameserver("127.0.0.1", port=world.knot.port)],
                                         timeout=2.0)
                cd_inproc.append(time.perf_counter() - t)
                if out.returncode != 0:
                    print(out.stderr[-2000:], file=sys.stderr)
                    return 1
            v, c = statistics.median(verify_times), statistics.median(cd_times)
            checks = len(rep.findings)
            print(f"domain {d} via knotd 127.0.0.1:{world.knot.port}{' (+:53)' if port53 else ''}, {args.runs} runs, medians")
            print(f"launchready verify (dns+mail, {checks} results, in-process): {v * 1000:8.1f} ms")
            print(f"checkdmarc CLI (SPF/DMARC/MX/MTA-STS/TLS-RPT/DNSSEC, new process): {c * 1000:8.1f} ms")
            ci = statistics.median(cd_inproc)
            print(f"checkdmarc.check_domains (same checks, in-process, no interpreter start): {ci * 1000:8.1f} ms")
            print(f"ratio verify / checkdmarc CLI: {v / c:.2f}   verify / checkdmarc in-process: {v / ci:.2f}")
        finally:
            world.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
