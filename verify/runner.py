"""The runner: checks plan what they need, probes fetch it concurrently, judges decide.

Probes run concurrently in a thread pool, deduplicated by key, each under its own timeout and all
under one overall deadline. Exceptions from probes and judges become ERROR results here and nowhere
else. The runner is given its checks and its probe registry; it knows no check or probe module.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime as _dt
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Finding, Report, Status, Verdict, result, verify_report
from .registry import Check, Item, NotApplicable, Observations, ProbeFailed, ProbeFn, ProbeKey, ProbeTimeout


class SelectionError(ValueError):
    pass


def select(checks: Mapping[str, Check], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Check]:
    """--only/--skip by id or group; unknown names are an error (a typo must not silently skip)."""
    only, skip = [s.strip() for s in only if s.strip()], [s.strip() for s in skip if s.strip()]
    groups = {c.group for c in checks.values()}
    for name in [*only, *skip]:
        if name not in checks and name not in groups:
            raise SelectionError(
                f"unknown check or group {name!r} (groups: {', '.join(sorted(groups))}; "
                f"ids: see `launchready verify --list`)")

    def hit(c: Check, names: list[str]) -> bool:
        return c.id in names or c.group in names

    chosen = [c for c in checks.values() if (not only or hit(c, only)) and not hit(c, skip)]
    return chosen


# ---------------------------------------------------------------- runner

@dataclass
class RunEvents:
    """Callbacks for progress display; all optional, called from the runner thread."""

    on_plan: Callable[[int], None] = lambda n_probes: None
    on_probe_done: Callable[[ProbeKey], None] = lambda k: None


@dataclass
class RunOptions:
    probe_timeout: float = 5.0
    deadline: float = 60.0
    workers: int = 16


def _error_result(chk: Check, target: str, exc: BaseException, started: float) -> Finding:
    inner = exc.error if isinstance(exc, ProbeFailed) else exc
    where = f" (probe {exc.key})" if isinstance(exc, ProbeFailed) else ""
    msg = str(inner) or inner.__class__.__name__
    return result(
        check_id=chk.id, group=chk.group, target=target, status=Status.ERROR,
        message=f"could not check: {msg}{where}", error_type=type(inner).__name__,
        duration_ms=(time.monotonic() - started) * 1000,
    )


def run(checks: Sequence[Check], ctx: Any, expectations: Any, options: RunOptions | None = None,
        events: RunEvents | None = None, *, probes: Mapping[str, ProbeFn], stack: str = "",
        domain: str = "", nameservers: Sequence[str] = ()) -> Report:
    """Plan every check, run the needed probes (from `probes`: kind -> fn) concurrently, judge,
    and return a Report."""
    options = options or RunOptions()
    events = events or RunEvents()
    t0 = time.monotonic()
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    deadline_at = t0 + options.deadline

    planned, results = _plan(checks, expectations, t0)
    wanted = _wanted(planned)
    events.on_plan(len(wanted))
    values, errors, deadline_hit = _run_probes(wanted, probes, ctx, options, deadline_at, events)
    obs = Observations(values, errors)
    results.extend(_judge(chk, item, obs) for chk, item in planned)

    order = {c.id: i for i, c in enumerate(checks)}
    results.sort(key=lambda r: (order.get(r.id, 1 << 30), r.target))
    return verify_report(stack=stack, domain=domain, nameservers=tuple(nameservers), started_at=started_at,
                  duration_s=round(time.monotonic() - t0, 3), results=tuple(results),
                  deadline_hit=deadline_hit)


def _plan(checks: Sequence[Check], expectations: Any, t0: float) -> tuple[list[tuple[Check, Item]], list[Finding]]:
    """1. plan: (check, item) pairs to judge, and the SKIPPED/ERROR results planning already gives."""
    planned: list[tuple[Check, Item]] = []
    results: list[Finding] = []
    for chk in checks:
        try:
            plan = chk.plan(expectations)
        except Exception as exc:  # a broken plan is an ERROR for that check, not a crash
            results.append(_error_result(chk, "-", exc, t0))
            continue
        if isinstance(plan, NotApplicable):
            results.append(result(chk.id, chk.group, plan.target, Status.SKIPPED, plan.reason))
            continue
        for item in plan:
            if isinstance(item, NotApplicable):
                results.append(result(chk.id, chk.group, item.target, Status.SKIPPED, item.reason))
            else:
                planned.append((chk, item))
    return planned, results


def _wanted(planned: Sequence[tuple[Check, Item]]) -> list[ProbeKey]:
    """2a. the probe keys the items need, deduplicated, in first-need order."""
    return list(dict.fromkeys(k for _, item in planned for k in item.needs))


def _judge(chk: Check, item: Item, obs: Observations) -> Finding:
    """3. judge (pure, fast; exceptions -> ERROR with the type kept)."""
    s = time.monotonic()
    try:
        verdict = chk.judge(item, obs)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"judge of {chk.id} returned {type(verdict).__name__}, not Verdict")
        return result(
            check_id=chk.id, group=chk.group, target=item.target, status=verdict.status,
            message=verdict.message, evidence=dict(verdict.evidence),
            remediation=verdict.remediation if verdict.status in (Status.FAIL, Status.WARN) else None,
            duration_ms=(time.monotonic() - s) * 1000,
        )
    except Exception as exc:
        return _error_result(chk, item.target, exc, s)


def _run_probes(wanted: Sequence[ProbeKey], probes: Mapping[str, ProbeFn], ctx: Any, options: RunOptions,
                deadline_at: float, events: RunEvents) -> tuple[dict, dict, bool]:
    """2b. probe, concurrently: (values, errors, deadline_hit)."""
    if not wanted:
        return {}, {}, False
    return _ProbeRun(probes, ctx, options, deadline_at, events).run(wanted)


class _ProbeRun:
    """One run's probes: submitted to daemon threads, collected until done, timed out or the deadline."""

    def __init__(self, probes: Mapping[str, ProbeFn], ctx: Any, options: RunOptions, deadline_at: float,
                 events: RunEvents):
        self.probes, self.ctx, self.options, self.deadline_at, self.events = probes, ctx, options, deadline_at, events
        self.values: dict[ProbeKey, Any] = {}
        self.errors: dict[ProbeKey, BaseException] = {}
        self.started: dict[ProbeKey, float] = {}
        self.lock = threading.Lock()
        self.futures: dict[cf.Future, ProbeKey] = {}
        self.running: set[ProbeKey] = set()           # started, not yet done or timed out
        self.done: queue.SimpleQueue = queue.SimpleQueue()  # futures, as they complete

    def call(self, k: ProbeKey) -> Any:
        with self.lock:
            self.started[k] = time.monotonic()
            self.running.add(k)
        fn = self.probes.get(k.kind)
        if fn is None:
            raise LookupError(f"no probe registered for kind {k.kind!r}")
        return fn(self.ctx, *k.args)

    def run(self, wanted: Sequence[ProbeKey]) -> tuple[dict, dict, bool]:
        pool = _DaemonPool(max(1, self.options.workers))
        self.futures = {pool.submit(self.call, k): k for k in wanted}
        self.by_key = {k: f for f, k in self.futures.items()}
        for f in self.futures:
            f.add_done_callback(self.done.put)
        pending = set(self.futures)
        deadline_hit = False
        try:
            while pending:
                if time.monotonic() >= self.deadline_at:
                    deadline_hit = True
                    break
                pending = self._step(pending)
            self._deadline_reached(pending)
        finally:
            # Do not wait for stragglers: their results are already reported as timeouts. Their own
            # network timeouts end them shortly, and being daemon threads they never hold up the exit
            # of the process (a ThreadPoolExecutor's workers are joined at exit: a `--deadline 2` run
            # against a slow server took 10 s to return to the shell).
            pool.shutdown()
        return self.values, self.errors, deadline_hit

    def _step(self, pending: set[cf.Future]) -> set[cf.Future]:
        """Wait for the next completion, expiry or deadline; record outcomes; return what is left.
        Completions arrive on a queue and only running probes can expire, so a step costs O(workers),
        not O(probes): a run of a thousand probes is not quadratic."""
        now = time.monotonic()
        with self.lock:
            expiries = [self.started[k] + self.options.probe_timeout for k in self.running]
        wake = min([self.deadline_at, *expiries, now + 0.25])
        done = []
        try:
            done.append(self.done.get(timeout=max(0.0, wake - now)))
            while True:
                done.append(self.done.get_nowait())
        except queue.Empty:
            pass
        for f in done:
            if f not in pending:
                continue  # already reported as timed out
            pending.discard(f)
            k = self.futures[f]
            with self.lock:
                self.running.discard(k)
            exc = f.exception()
            if exc is not None:
                self.errors[k] = exc
            else:
                self.values[k] = f.result()
            self.events.on_probe_done(k)
        now = time.monotonic()
        with self.lock:
            expired = [k for k in self.running if now - self.started[k] >= self.options.probe_timeout]
            self.running.difference_update(expired)
        for k in expired:
            self.errors[k] = ProbeTimeout(f"probe {k} timed out after {self.options.probe_timeout:g}s")
            self.events.on_probe_done(k)
            pending.discard(self.by_key[k])
        return pending

    def _deadline_reached(self, pending: set[cf.Future]) -> None:
        for f in pending:
            k = self.futures[f]
            with self.lock:
                ran = k in self.started
            self.errors[k] = ProbeTimeout(
                f"overall deadline of {self.options.deadline:g}s reached "
                f"{'while the probe was running' if ran else 'before the probe could run'}")
            self.events.on_probe_done(k)


class _DaemonPool:
    """The part of ThreadPoolExecutor the runner needs, on daemon threads."""

    def __init__(self, workers: int):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"verify-probe-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        f: cf.Future = cf.Future()
        self._queue.put((f, fn, args))
        return f

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            f, fn, args = job
            if self._closed or not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the runner, which reports it
                f.set_exception(exc)

    def shutdown(self) -> None:
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
