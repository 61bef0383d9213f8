"""Performance checks (group "perf"): latency percentiles of the main flows, and Largest Contentful Paint.

Latency is measured from the request sent to the body read, over kept-alive connections after one
warm-up request, N samples with bounded concurrency (`--samples`, `--concurrency`). Percentiles are
nearest-rank. LCP is measured in a real browser (`--browser`); without one it is SKIPPED.
"""
from __future__ import annotations

import math

from ..model import Verdict, failed, passed, skipped, warned
from ..probes.webprobes import LatencySamples
from ..registry import Item, NotApplicable, check, checks_of, key
from ..webexpect import LCP_BUDGET_MS, WebExpectations
from .webcommon import PERF, with_web

MIN_SAMPLES = 5


def percentile(values: list[float] | tuple[float, ...], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return s[min(rank, len(s)) - 1]


@with_web
def _plan_latency(exp, web: WebExpectations):
    if not web.perf_flows:
        return NotApplicable("the stack declares no GET-able main flow", exp.domain)
    return [Item(f.url, (key("latency", f.url),), data=(f, web.latency_p95_ms)) for f in web.perf_flows]


@check("latency-p95", PERF, "main flows answer within the p95 budget", plan=_plan_latency)
def judge_latency(item: Item, obs) -> Verdict:
    flow, budget = item.data
    s: LatencySamples = obs[item.needs[0]]
    if len(s.times_ms) < MIN_SAMPLES:
        why = f": {s.errors[0]}" if s.errors else ""
        raise TimeoutError(f"only {len(s.times_ms)} of {s.wanted} samples of {s.url} completed{why}")
    p50, p95, p99 = (round(percentile(s.times_ms, p), 1) for p in (50, 95, 99))
    ev = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "samples": len(s.times_ms), "budget_ms": budget,
          "statuses": sorted(set(s.statuses)), "failed_requests": len(s.errors)}
    errors5xx = sum(1 for st in s.statuses if st >= 500)
    if p95 > budget:
        return failed(f"{flow.name} ({s.url}): p95 {p95:.0f} ms over the {budget} ms budget (p50 {p50:.0f}, p99 {p99:.0f})",
                      "profile the flow's slowest dependency (database queries, upstream calls); cache what is "
                      "public at the edge; the stack's latency alarm watches the same p95", **ev)
    if errors5xx:
        return warned(f"{flow.name}: p95 {p95:.0f} ms, but {errors5xx} of {len(s.statuses)} answers were 5xx",
                      "find why the flow fails under light concurrency", **ev)
    return passed(f"{flow.name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms ({len(s.times_ms)} samples)", **ev)


@with_web
def _plan_lcp(exp, web: WebExpectations):
    pages = [f for f in web.perf_flows if (h := web.host(f.host)) is not None and not h.api]
    if not pages:
        return NotApplicable("the stack declares no main page", exp.domain)
    return [Item(f.url, (key("lcp", f.url),), data=f) for f in pages]


@check("lcp", PERF, "Largest Contentful Paint under 2.5 s in a real browser", plan=_plan_lcp)
def judge_lcp(item: Item, obs) -> Verdict:
    o = obs[item.needs[0]]
    if o.skipped:
        return skipped(o.skipped)
    if o.lcp_ms is None:
        raise RuntimeError(f"the browser reported no LCP for {item.target} ({o.detail or 'no contentful element'})")
    ev = {"lcp_ms": round(o.lcp_ms), "element": o.element, "budget_ms": LCP_BUDGET_MS}
    if o.lcp_ms > LCP_BUDGET_MS:
        return failed(f"LCP {o.lcp_ms:.0f} ms (element {o.element or '?'}) over {LCP_BUDGET_MS} ms",
                      "serve the largest element (hero image, heading) faster: preload it, size and compress it, "
                      "cache it at the edge, and cut render-blocking scripts", **ev)
    return passed(f"LCP {o.lcp_ms:.0f} ms ({o.element or 'element unknown'})", **ev)


CHECKS = checks_of(judge_latency, judge_lcp)
