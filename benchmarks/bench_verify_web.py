"""Benchmark: the whole `launchready verify` (DNS + mail against knotd, TLS + HTTP + perf against the
nginx "correct" server) beside testssl.sh --fast and Mozilla's httpobs on the same kind of server, in
one run; then 1 vs 20 hosts, and measured vs injected p95 latency.

    python3 benchmarks/bench_verify_web.py [--runs 3] [--profile] [--httpobs-venv /tmp/httpobs]

Each verify job runs in a fresh child process (`--job`): CPU time and peak RSS are verify's alone,
not the test world's (the upstream app and the MTA-STS server live in this process).
testssl.sh resolves `invalid.` through the system resolver whatever --nodns says (DESIGN.md), so it
runs, with its own nginx, in a network namespace with only loopback (`unshare -nm`; --ns-child);
httpobs resolves the scanned host, so that namespace bind-mounts an /etc/hosts naming the world's
hosts. httpobs is not installed by this script (no network here): 0.9.3's wheel pins psycopg2 2.7
and uWSGI, which do not build on Python 3.11; `pip install --no-deps httpobs` plus celery, requests,
beautifulsoup4 and publicsuffixlist is enough for its local scanner.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pickle
import pstats
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test world (tests/worldkit) is not part of the package

from worldkit import webapp  # noqa: E402
from worldkit.web import HOSTS, WebWorld  # noqa: E402
from worldkit.world import build_world, domain_for  # noqa: E402

from infra.spec import parse_spec, read_stack_file  # noqa: E402
from verify.expectations import from_spec  # noqa: E402

DEAD_NS = [("127.0.0.1", 9)]  # the web runs pin every name: a query reaching DNS is refused at once
WEB = ["tls", "http", "perf"]
DASHBOARD = "https://app.example.com/dashboard"
TESTSSL_TIMEOUT = 180
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))


# ----------------------------------------------------------------- a verify job, in a child process

def _profiled(fn):
    """Run fn under cProfile, counting CPU (thread_time), in this thread and every thread it starts."""
    profs = [cProfile.Profile(time.thread_time)]

    def per_thread(*_a):
        sys.setprofile(None)
        p = cProfile.Profile(time.thread_time)
        profs.append(p)
        p.enable()

    threading.setprofile(per_thread)
    profs[0].enable()
    try:
        out = fn()
    finally:
        profs[0].disable()
        threading.setprofile(None)
    stats = pstats.Stats(profs[0])
    for p in profs[1:]:
        stats.add(p)
    return out, stats


def _probe_timer(walls: Counter):
    """Wrap verify's probes so each kind's summed wall time is recorded."""
    from verify import engine

    real = engine.load_probes()

    def wrap(kind, fn):
        def timed(ctx, *args):
            t = time.perf_counter()
            try:
                return fn(ctx, *args)
            finally:
                walls[kind] += time.perf_counter() - t
        return timed
    engine.load_probes = lambda: {k: wrap(k, f) for k, f in real.items()}


def run_job(path: str) -> None:
    from verify.audit import audit

    job = pickle.loads(Path(path).read_bytes())
    walls, cpus, probe_walls, reports = [], [], Counter(), []
    if job["profile"]:  # one profiled run: its times include the profiler's overhead
        _probe_timer(probe_walls)
    for _ in range(job["runs"]):
        t, c = time.perf_counter(), time.process_time()
        if job["profile"]:
            rep, stats = _profiled(lambda: audit(job["exp"], **job["kw"]))
        else:
            rep = audit(job["exp"], **job["kw"])
        reports.append(rep)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    out = {"walls": walls, "cpus": cpus, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "results": len(rep.findings), "statuses": Counter(f.status.value for f in rep.findings),
           "bad": sorted({(f.id, f.status.value) for r in reports for f in r.findings
                          if f.status.value in ("FAIL", "ERROR", "WARN")}),
           "p95": [f.evidence.get("p95_ms") for f in rep.findings if f.target == DASHBOARD and f.id == "latency-p95"]}
    if job["profile"]:
        def name(f, ln, fn):
            return f"{Path(f).name}:{ln} {fn}"
        own = sorted(stats.stats.items(), key=lambda kv: kv[1][2])[-6:]
        cum = sorted(((k, st) for k, st in stats.stats.items() if "/verify/" in k[0]), key=lambda kv: kv[1][3])
        out["cpu_own"] = [(name(*k), round(st[2], 2)) for k, st in reversed(own)]
        out["cpu_cum_verify"] = [(name(*k), round(st[3], 2)) for k, st in reversed(cum[-6:])]
        out["probe_walls"] = [(k, round(v, 2)) for k, v in probe_walls.most_common(5)]
    print(json.dumps(out))


def verify_job(tmp: Path, exp, kw: dict, runs: int, profile: bool = False) -> dict:
    job = tmp / f"job-{time.monotonic_ns()}.pickle"
    job.write_bytes(pickle.dumps({"exp": exp, "kw": kw, "runs": runs, "profile": profile}))
    p = subprocess.run([sys.executable, __file__, "--job", str(job)], capture_output=True, text=True,
                       timeout=600, env=CHILD_ENV)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- testssl.sh and httpobs, in a namespace

def ns_child(out_path: str, httpobs_venv: str) -> None:
    """Inside `unshare -nm`: prove there is no route out, start the correct nginx, scan it."""
    out: dict = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 53))
            out["leak"] = "a route outside loopback exists"
        except OSError:
            pass
    with tempfile.TemporaryDirectory() as tmp, WebWorld(Path(tmp), stacks_dir=REPO / "stacks") as web:
        srv = web.server("correct")
        if "leak" not in out:
            out["testssl"] = _timed_cmd(
                ["testssl", "--fast", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
                 "--ip", "127.0.0.1", "--add-ca", srv.ca_file, "--connect-timeout", "5", "--openssl-timeout", "5",
                 f"https://example.com:{srv.https_port}"], {})
            scan = Path(httpobs_venv) / "bin" / "httpobs-local-scan"
            out["httpobs"] = _timed_cmd(
                [str(scan), "--http-port", str(srv.http_port), "--https-port", str(srv.https_port), "example.com"],
                {"REQUESTS_CA_BUNDLE": srv.ca_file}) if scan.exists() else {"why": f"{scan} not installed"}
    Path(out_path).write_text(json.dumps(out))


def _timed_cmd(cmd: list[str], env: dict) -> dict:
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TESTSSL_TIMEOUT, env={**os.environ, **env})
    except subprocess.TimeoutExpired:
        return {"why": f"timed out after {TESTSSL_TIMEOUT} s"}
    wall = time.perf_counter() - t
    if p.returncode != 0 and not (cmd[0] == "testssl" and p.returncode < 240 and " Done " in p.stdout):
        return {"wall": wall, "why": f"exit {p.returncode}: {(p.stderr or p.stdout)[-300:].strip()}"}
    extra = {}
    if "httpobs" in cmd[0]:
        scan = json.loads(p.stdout)["scan"]
        extra = {"grade": scan["grade"], "passed": f"{scan['tests_passed']}/{scan['tests_quantity']}"}
    return {"wall": wall, **extra}


def scanners_in_namespace(tmp: Path, httpobs_venv: str) -> dict:
    def skip(why: str) -> dict:
        return {"testssl": {"why": why}, "httpobs": {"why": why}}

    if not shutil.which("testssl") or not shutil.which("unshare"):
        return skip("testssl or unshare not installed")
    hosts, out = tmp / "ns-hosts", tmp / "ns-out.json"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 " + " ".join(HOSTS) + "\n")
    unshare = ["unshare", "-nm"] if os.geteuid() == 0 else ["unshare", "-rnm"]
    script = 'ip link set lo up && mount --bind "$0" /etc/hosts && exec "$1" "$2" --ns-child "$3" --httpobs-venv "$4"'
    p = subprocess.run([*unshare, "sh", "-c", script, str(hosts), sys.executable, __file__, str(out), httpobs_venv],
                       capture_output=True, text=True, timeout=2 * TESTSSL_TIMEOUT + 60, env=CHILD_ENV)
    if p.returncode != 0 or not out.exists():
        return skip(f"no loopback-only namespace (exit {p.returncode}: {p.stderr.strip()[-200:]})")
    res = json.loads(out.read_text())
    return skip(res["leak"]) if "leak" in res else res


# ----------------------------------------------------------------- the scenarios

def stack_with_hosts(tmp: Path, n: int) -> tuple[Path, object]:
    """The example stack plus n app-like hosts t01.example.com ... (the app's flows); (file, expectations)."""
    doc = yaml.safe_load((REPO / "stacks" / "Pulumi.example.yaml").read_text())
    flows = {"login": "/login", "reset": "/password/reset", "invite": "/invite/accept", "dashboard": "/dashboard"}
    doc["config"]["launchready:hosts"] += [{"name": f"t{i:02d}.example.com", "origin": "203.0.113.30", "flows": flows}
                                           for i in range(1, n + 1)]
    path = tmp / f"Pulumi.t{n}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path, from_spec(parse_spec(read_stack_file(path)), stack=f"t{n}")


def scaling(tmp: Path, runs: int, profile: bool) -> dict:
    path20, exp20 = stack_with_hosts(tmp, 20)
    _path1, exp1 = stack_with_hosts(tmp, 1)
    app_pages = webapp.PAGES["app.example.com"]
    webapp.PAGES.update({f"t{i:02d}.example.com": app_pages for i in range(1, 21)})  # the upstream serves them
    with WebWorld(tmp / "web20", spec_stack=str(path20)) as web:
        srv = web.server("correct")
        kw = {"nameservers": DEAD_NS, "connect_to": srv.pins(), "ca_file": srv.ca_file, "only": WEB}
        out = {n: verify_job(tmp, exp, kw, runs) for n, exp in ((1, exp1), (20, exp20))}
        if profile:
            out[20]["profile"] = verify_job(tmp, exp20, kw, 1, profile=True)
        return out


def p95_accuracy(tmp: Path, web: WebWorld, exp) -> dict:
    out = {}
    for delay in (200, 400):
        srv = web.server("latency", delay_ms=delay)
        kw = {"nameservers": DEAD_NS, "connect_to": srv.pins(), "ca_file": srv.ca_file, "only": ["latency-p95"],
              "samples": 20}
        out[delay] = verify_job(tmp, exp, kw, 1)["p95"][0]
    return out


def whole(tmp: Path, args) -> tuple[dict, dict]:
    world = build_world(tmp / "dns", variants=(), stacks_dir=REPO / "stacks")
    try:
        with WebWorld(tmp / "web", stacks_dir=REPO / "stacks") as web:
            srv = web.server("correct")
            ca = tmp / "cas.pem"  # the MTA-STS server's CA and the web world's CA
            ca.write_text(Path(world.ca_file).read_text() + Path(srv.ca_file).read_text())
            exp = world.domains[domain_for(None)].exp
            kw = {"nameservers": world.nameservers, "connect_to": {**world.connect_to(), **srv.pins()},
                  "ca_file": str(ca)}
            res = verify_job(tmp, exp, kw, args.runs)
            if args.profile:  # a cold run of its own: the profiler slows it down
                res["profile"] = verify_job(tmp, exp, kw, 1, profile=True)
            return res, p95_accuracy(tmp, web, exp)
    finally:
        world.stop()


# ----------------------------------------------------------------- report

def ms(s: float) -> str:
    return f"{s * 1000:8.0f} ms"


def print_table(res: dict, scanners: dict, scale: dict, p95: dict) -> None:
    w, c = res["walls"], res["cpus"]
    warm = statistics.median(w[1:]) if len(w) > 1 else w[0]
    print(f"\n{'figure':58} {'value':>22}")
    rows = [("verify, whole (dns+mail+tls+http+perf), first run", ms(w[0])),
            (f"verify, whole, median of {len(w) - 1} more runs", ms(warm)),
            ("verify CPU time, first run / median", f"{c[0]:.2f} s / {statistics.median(c):.2f} s"),
            ("verify peak RSS (its own process)", f"{res['peak_rss_mb']:.0f} MB"),
            ("verify results (" + " ".join(f"{k} {v}" for k, v in sorted(res["statuses"].items())) + ")",
             str(res["results"]))]
    ts = scanners.get("testssl", {})
    if "wall" in ts and "why" not in ts:
        rows += [("testssl.sh --fast (TLS only, one host, namespace)", ms(ts["wall"])),
                 ("ratio testssl / verify whole (target >= 10)", f"{ts['wall'] / w[0]:.1f}x")]
    else:
        rows.append(("testssl.sh --fast: skipped", ts.get("why", "?")[:60]))
    ho = scanners.get("httpobs", {})
    rows.append(("httpobs local scan (headers, one host)", ms(ho["wall"]) + f" {ho['grade']} {ho['passed']}"
                 if "wall" in ho and "why" not in ho else ho.get("why", "?")[:60]))
    s1, s20 = statistics.median(scale[1]["walls"]), statistics.median(scale[20]["walls"])
    rows += [("verify tls,http,perf: example + 1 app host (5 hosts)", ms(s1)),
             ("verify tls,http,perf: example + 20 app hosts (24 hosts)", ms(s20)),
             ("ratio 20 / 1 app hosts (vs 20x; host count ratio 4.8x)", f"{s20 / s1:.1f}x"),
             ("marginal cost per app host", ms((s20 - s1) / 19)),
             ("verify CPU time, 1 / 20 app hosts (median)", " / ".join(
                 f"{statistics.median(scale[n]['cpus']):.2f} s" for n in (1, 20)))]
    rows += [(f"p95 injected {d} ms: measured", f"{v:.0f} ms ({(v - d) / d * 100:+.1f}%)") for d, v in p95.items()]
    for name, value in rows:
        print(f"{name:58} {value:>22}")
    if res["bad"]:
        print("non-PASS in some run:", res["bad"])
    for name, r in (("whole verify", res), ("20 app hosts", scale[20])):
        if "profile" in r:
            prof = r["profile"]
            print(f"\nprofile of {name} (1 run, {prof['walls'][0]:.2f} s wall, {prof['cpus'][0]:.2f} s CPU, profiled)")
            print("  probe wall time, summed per kind:", prof["probe_walls"])
            print("  CPU, own time (all threads):", prof["cpu_own"])
            print("  CPU, cumulative, verify/ functions:", prof["cpu_cum_verify"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--httpobs-venv", default="/tmp/httpobs")
    ap.add_argument("--job", help=argparse.SUPPRESS)
    ap.add_argument("--ns-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        return run_job(args.job) or 0
    if args.ns_child:
        return ns_child(args.ns_child, args.httpobs_venv) or 0
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        res, p95 = whole(tmp, args)
        scanners = scanners_in_namespace(tmp, args.httpobs_venv)
        scale = scaling(tmp, args.runs, args.profile)
    print_table(res, scanners, scale, p95)
    return 0


if __name__ == "__main__":
    sys.exit(main())
