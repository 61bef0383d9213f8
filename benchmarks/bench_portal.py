"""Benchmark: verify's whole `portal` group (--active, no browser) against the reference portal world
(tests/worldkit/portal.py, the "correct" portal behind nginx on 127.0.0.1), printed beside the same
journeys scripted in plain Playwright in Debian's Chromium, the way a synthetic-monitoring script does.

    python3 benchmarks/bench_portal.py [--runs 3]

Each side runs in a fresh child process per run (the portal's throttle is reset between runs, as a
window passing would); the parent samples the child's whole process tree (/proc: Python, and for
Playwright its Node driver and every Chromium process) for CPU and peak memory (PSS: pages
shared between processes counted once, split; a sum of RSS would count Chromium's shared pages
over and over). "in-process" times
leave out interpreter start and imports: for verify the `audit` call, for Playwright from launching
Chromium to closing it. Requests reaching the portal app are counted by the world, per side.

What the Playwright script does (the journeys verify walks, the way a browser can):
sign in through the login page per account (a fresh context each, like an incognito window) and
ask "who am I"; each org's first session reads every org's object and the list; every account asks
the admin endpoint; the main flows timed with the same number of samples (sequential in-page
fetches: verify sends 4 in flight); failed sign-ins of a known and an unknown address (3 each,
enumeration) and of a stranger until throttled (the declared attempts + 3); logout, then the old
cookies replayed in a new context. Differences: a page cannot set a hostile Origin, so the CORS and
hostile-Origin CSRF probes are not scripted, nor the malformed-JSON probes; the browser keeps the
`__Host-` cookie on app.example.com, so its API calls go there (verify replays it to api.example.com);
the script only collects statuses and does not judge them.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test world (tests/worldkit) is not part of the package

DEAD_NS = [("127.0.0.1", 9)]  # every name is pinned: a query reaching DNS is refused at once
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
TARGET_S = 10.0


# ----------------------------------------------------------------- the process tree of a child

def _tree(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def _pss_kb(pid: int) -> int:
    """Proportional set size: pages shared between Chromium's processes are counted once, split."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(args: list[str], env: dict) -> dict:
    """Run `python3 bench_portal.py <args>` and measure it: wall, CPU of the tree (reaped children
    included), peak memory of the whole tree (PSS, sampled every 20 ms), and the JSON it prints."""
    before = os.times()
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    peak = [0]

    def sample():
        while p.poll() is None:
            peak[0] = max(peak[0], sum(_pss_kb(pid) for pid in _tree(p.pid)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = p.communicate(timeout=600)
    wall = time.perf_counter() - t
    sampler.join()
    after = os.times()
    if p.returncode != 0:
        raise RuntimeError(err[-3000:])
    res = json.loads(out.strip().splitlines()[-1])
    res.update(process_wall=wall, tree_cpu=(after.children_user - before.children_user)
               + (after.children_system - before.children_system), tree_peak_rss_mb=peak[0] / 1024)
    return res


# ----------------------------------------------------------------- the two sides, in the child

def verify_job(path: str) -> dict:
    from collections import Counter

    from verify.audit import audit

    job = pickle.loads(Path(path).read_bytes())
    t, c = time.perf_counter(), time.process_time()
    rep = audit(job["exp"], **job["kw"])
    return {"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "results": len(rep.findings),
            "statuses": Counter(f.status.value for f in rep.findings),
            "bad": sorted({(f.id, f.status.value) for f in rep.findings if f.status.value in ("FAIL", "ERROR", "WARN")})}


def playwright_job(path: str) -> dict:
    from playwright.sync_api import sync_playwright

    job = pickle.loads(Path(path).read_bytes())
    exp = job["exp"].portal
    t, c = time.perf_counter(), time.process_time()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=job["chromium"], headless=True, args=job["args"])
        try:
            statuses = scripted_journeys(browser, exp, job["samples"])
        finally:
            browser.close()
    return {"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "requests": len(statuses),
            "statuses": {str(k): v for k, v in sorted(_count(statuses).items())}}


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


_FETCH = """async ([url, n]) => { const out = [];
  for (let i = 0; i < n; i++) { const r = await fetch(url, {credentials: 'same-origin'}); await r.text();
    out.push(r.status); } return out; }"""


def sign_in(browser, exp, username: str, password: str):
    """A fresh context, the login page, its form submitted; (context, page, status of the landing)."""
    s = exp.session
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(exp.base_url + s.login_path)
    page.fill(f'[name="{s.username_field}"]', username)
    page.fill(f'[name="{s.password_field}"]', password)
    with page.expect_navigation() as nav:
        page.click('form [type="submit"]')
    return context, page, nav.value.status


def scripted_journeys(browser, exp, samples: int) -> list[int]:
    base, s, out = exp.base_url, exp.session, []
    pages = {}
    for a in exp.accounts:  # sign in per account, "who am I"
        context, page, status = sign_in(browser, exp, a.username, os.environ[a.password_env])
        out += [status, *page.evaluate(_FETCH, [base + s.whoami_path, 1])]
        pages[a.name] = (context, page, a)
    firsts = {}
    for _context, page, a in pages.values():
        firsts.setdefault(a.org, page)
        out += page.evaluate(_FETCH, [base + exp.admin_paths[0], 1]) if exp.admin_paths else []
    for page in firsts.values():  # every org's object, and the list
        for ep in exp.objects:
            for _owner, oid in ep.ids:
                out += page.evaluate(_FETCH, [ep.url(base, oid), 1])
        for path in exp.lists:
            out += page.evaluate(_FETCH, [base + path, 1])
    page = next(iter(firsts.values()))
    for path in exp.flows:  # the main flows, timed by the same number of samples (+1 warm-up)
        out += page.evaluate(_FETCH, [base + path, samples + 1])
    ghost = "launchready-nobody@" + exp.accounts[0].username.rsplit("@", 1)[-1]
    for who in [exp.accounts[0].username] * 3 + [ghost] * 3:  # enumeration: failed sign-ins
        context, _p, status = sign_in(browser, exp, who, "launchready-wrong-1")
        out.append(status)
        context.close()
    stranger = "launchready-throttle-probe@" + exp.accounts[0].username.rsplit("@", 1)[-1]
    for _ in range(exp.throttle[0] + 3 if exp.throttle else 0):  # until throttled
        context, _p, status = sign_in(browser, exp, stranger, "launchready-wrong-3")
        out.append(status)
        context.close()
        if status in (429, 423):
            break
    context, page, a = next(iter(pages.values()))  # logout, then the old cookies replayed
    cookies = context.cookies()
    with page.expect_navigation():
        page.click(f'form[action="{s.logout_path}"] [type="submit"]')
    replay = browser.new_context(ignore_https_errors=True)
    replay.add_cookies(cookies)
    r = replay.new_page().goto(base + s.whoami_path)
    out.append(r.status if r else 0)
    for context, _page, _a in pages.values():
        context.close()
    return out


# ----------------------------------------------------------------- the parent

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--verify-job", help=argparse.SUPPRESS)
    ap.add_argument("--playwright-job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.verify_job or args.playwright_job:
        out = verify_job(args.verify_job) if args.verify_job else playwright_job(args.playwright_job)
        print(json.dumps(out))
        return 0
    from worldkit.portal import PortalWorld

    from verify.expectations import from_spec

    with tempfile.TemporaryDirectory() as tmp_s, PortalWorld(Path(tmp_s) / "world") as world:
        srv = world.server("correct")
        exp = from_spec(srv.spec(), stack="portal")
        env = {**CHILD_ENV, **srv.env()}
        kw = {"nameservers": DEAD_NS, "connect_to": srv.pins(), "ca_file": srv.ca_file, "only": ["portal"],
              "active": True, "samples": 20}
        job = Path(tmp_s) / "job.pickle"
        job.write_bytes(pickle.dumps({"exp": exp, "kw": kw}))
        sides = {"verify": [], "playwright": []}
        chromium = shutil.which("chromium")
        pw_job = Path(tmp_s) / "pw.pickle"
        pw_job.write_bytes(pickle.dumps({"exp": exp, "args": _chromium_args(srv, exp), "chromium": chromium, "samples": 20}))
        for _ in range(args.runs):
            for side, flag, path in (("verify", "--verify-job", job), ("playwright", "--playwright-job", pw_job)):
                if side == "playwright" and not chromium:
                    continue
                srv.reset_throttle()
                n0 = srv.requests()
                res = run_child([flag, str(path)], env)
                res["portal_requests"] = srv.requests() - n0
                sides[side].append(res)
    print_table(sides)
    return 0


def _chromium_args(srv, exp) -> list[str]:
    """Chromium's flags as verify's browser probes build them: the world's pins as resolver rules."""
    from verify.context import Context
    from verify.dnsclient import DnsClient
    from verify.probes.browserprobes import chromium_args
    from verify.webclient import WebClient

    dns = DnsClient(DEAD_NS, timeout=1.0)
    ctx = Context(dns=dns, web=WebClient(dns, connect_to=srv.pins()))
    return chromium_args(ctx, exp.portal.base_url, exp.portal.api_base_url)


def print_table(sides: dict) -> None:
    def med(rs, k):
        return statistics.median(r[k] for r in rs)

    print(f"\n{'figure (median of ' + str(len(sides['verify'])) + ' runs, each a fresh process)':62} "
          f"{'verify portal':>15} {'Playwright':>12}")
    rows = [("in-process wall (s): audit() / launch→close", "wall", "{:.2f}"),
            ("in-process CPU of the Python process (s)", "cpu", "{:.2f}"),
            ("process wall incl. interpreter start and imports (s)", "process_wall", "{:.2f}"),
            ("CPU of the whole process tree (s)", "tree_cpu", "{:.2f}"),
            ("peak memory of the whole process tree (PSS, MB)", "tree_peak_rss_mb", "{:.0f}"),
            ("requests reaching the portal app", "portal_requests", "{:.0f}")]
    for name, k, fmt in rows:
        v = fmt.format(med(sides["verify"], k))
        p = fmt.format(med(sides["playwright"], k)) if sides["playwright"] else "-"
        print(f"{name:62} {v:>15} {p:>12}")
    v = sides["verify"][-1]
    print(f"\nverify results: {v['results']} " + " ".join(f"{k} {n}" for k, n in sorted(v["statuses"].items()))
          + f"; target < {TARGET_S:.0f} s: {'met' if med(sides['verify'], 'process_wall') < TARGET_S else 'MISSED'}")
    if any(r["bad"] for r in sides["verify"]):
        print("non-PASS in some run:", sorted({b for r in sides["verify"] for b in map(tuple, r["bad"])}))
    if sides["playwright"]:
        print("Playwright statuses (last run):", sides["playwright"][-1]["statuses"])
    else:
        print("Playwright side skipped: no chromium on PATH")


if __name__ == "__main__":
    sys.exit(main())
