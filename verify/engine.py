"""Registry and runner: checks plan what they need, probes fetch it concurrently, judges decide.

A check is declared once with a stable kebab-case id and a group. Its `plan` turns the expectations
into items (one per target, each naming the probe keys it needs) or a SKIPPED reason; its `judge`
is a pure function of (item, observations) returning a Verdict. Probes are registered by kind and
run concurrently in a thread pool, deduplicated by key, each under its own timeout and all under
one overall deadline. Exceptions from probes and judges become ERROR results here and nowhere else.
New areas (TLS, HTTP, AWS) add a module with probes and checks; nothing here changes.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime as _dt
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from .model import Finding, Report, Status, Verdict, result, verify_report


# ---------------------------------------------------------------- probes

@dataclass(frozen=True)
class ProbeKey:
    kind: str
    args: tuple[Hashable, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(map(str, self.args))})"


def key(kind: str, *args: Hashable) -> ProbeKey:
    return ProbeKey(kind, tuple(args))


ProbeFn = Callable[..., Any]  # (ctx, *args) -> observation
PROBES: dict[str, ProbeFn] = {}


def probe(kind: str) -> Callable[[ProbeFn], ProbeFn]:
    """Register a probe function: fn(ctx, *args) -> a typed observation (or raise)."""
    def deco(fn: ProbeFn) -> ProbeFn:
        if kind in PROBES and PROBES[kind] is not fn:
            raise ValueError(f"probe kind {kind!r} registered twice")
        PROBES[kind] = fn
        return fn
    return deco


class ProbeTimeout(Exception):
    """A probe did not finish within its timeout or the overall deadline."""


class ProbeFailed(Exception):
    """Raised when a judge reads an observation whose probe raised; keeps the original type."""

    def __init__(self, key: ProbeKey, error: BaseException):
        super().__init__(f"{error}")
        self.key = key
        self.error = error


class Observations:
    """Read-only view of probe outcomes. Reading a failed probe raises, so judges stay simple."""

    def __init__(self, values: Mapping[ProbeKey, Any] | None = None,
                 errors: Mapping[ProbeKey, BaseException] | None = None):
        self._values = dict(values or {})
        self._errors = dict(errors or {})

    def __getitem__(self, k: ProbeKey) -> Any:
        if k in self._errors:
            raise ProbeFailed(k, self._errors[k])
        if k not in self._values:
            raise ProbeFailed(k, ProbeTimeout(f"probe {k} did not run"))
        return self._values[k]

    def __contains__(self, k: ProbeKey) -> bool:
        return k in self._values

    @classmethod
    def of(cls, mapping: Mapping[ProbeKey, Any]) -> "Observations":
        """For unit tests: values that are exceptions become probe errors."""
        vals = {k: v for k, v in mapping.items() if not isinstance(v, BaseException)}
        errs = {k: v for k, v in mapping.items() if isinstance(v, BaseException)}
        return cls(vals, errs)


# ---------------------------------------------------------------- checks

@dataclass(frozen=True)
class Item:
    """One thing a check judges: a target label, the probes it needs, and plan-time data."""

    target: str
    needs: tuple[ProbeKey, ...] = ()
    data: Any = None


@dataclass(frozen=True)
class NotApplicable:
    reason: str
    target: str = "-"


PlanFn = Callable[[Any], "Sequence[Item | NotApplicable] | NotApplicable"]
JudgeFn = Callable[[Item, Observations], Verdict]


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    title: str
    plan: PlanFn
    judge: JudgeFn
    remediation: str = ""


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    if check.id in CHECKS and CHECKS[check.id] is not check:
        raise ValueError(f"check id {check.id!r} registered twice")
    if check.id != check.id.lower() or " " in check.id or "_" in check.id:
        raise ValueError(f"check id {check.id!r} is not kebab-case")
    CHECKS[check.id] = check
    return check


def check(id: str, group: str, title: str, plan: PlanFn) -> Callable[[JudgeFn], JudgeFn]:
    """Decorator form: @check("spf-lookups", "mail", "SPF needs at most 10 lookups", plan=...)."""
    def deco(judge: JudgeFn) -> JudgeFn:
        register(Check(id=id, group=group, title=title, plan=plan, judge=judge))
        return judge
    return deco


def load_all() -> dict[str, Check]:
    """Import every check module (they register on import) and return the registry."""
    from . import checks  # noqa: F401  (side effect: registration)
    return CHECKS


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
        events: RunEvents | None = None, *, stack: str = "", domain: str = "",
        nameservers: Sequence[str] = ()) -> Report:
    """Plan every check, run the needed probes concurrently, judge, and return a Report."""
    options = options or RunOptions()
    events = events or RunEvents()
    t0 = time.monotonic()
    started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    deadline_at = t0 + options.deadline

    # 1. plan
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

    # 2. probe, concurrently, deduplicated by key
    wanted: list[ProbeKey] = []
    seen: set[ProbeKey] = set()
    for _, item in planned:
        for k in item.needs:
            if k not in seen:
                seen.add(k)
                wanted.append(k)
    events.on_plan(len(wanted))
    values, errors, deadline_hit = _run_probes(wanted, ctx, options, deadline_at, events)
    obs = Observations(values, errors)

    # 3. judge (pure, fast; exceptions -> ERROR with the type kept)
    for chk, item in planned:
        s = time.monotonic()
        try:
            verdict = chk.judge(item, obs)
            if not isinstance(verdict, Verdict):
                raise TypeError(f"judge of {chk.id} returned {type(verdict).__name__}, not Verdict")
            results.append(result(
                check_id=chk.id, group=chk.group, target=item.target, status=verdict.status,
                message=verdict.message, evidence=dict(verdict.evidence),
                remediation=verdict.remediation if verdict.status in (Status.FAIL, Status.WARN) else None,
                duration_ms=(time.monotonic() - s) * 1000,
            ))
        except Exception as exc:
            results.append(_error_result(chk, item.target, exc, s))

    order = {c.id: i for i, c in enumerate(checks)}
    results.sort(key=lambda r: (order.get(r.id, 1 << 30), r.target))
    return verify_report(stack=stack, domain=domain, nameservers=tuple(nameservers), started_at=started_at,
                  duration_s=round(time.monotonic() - t0, 3), results=tuple(results),
                  deadline_hit=deadline_hit)


def _run_probes(wanted: Sequence[ProbeKey], ctx: Any, options: RunOptions, deadline_at: float,
                events: RunEvents) -> tuple[dict, dict, bool]:
    values: dict[ProbeKey, Any] = {}
    errors: dict[ProbeKey, BaseException] = {}
    if not wanted:
        return values, errors, False
    started: dict[ProbeKey, float] = {}
    lock = threading.Lock()

    def call(k: ProbeKey) -> Any:
        with lock:
            started[k] = time.monotonic()
        fn = PROBES.get(k.kind)
        if fn is None:
            raise LookupError(f"no probe registered for kind {k.kind!r}")
        return fn(ctx, *k.args)

    pool = _DaemonPool(max(1, options.workers))
    futures = {pool.submit(call, k): k for k in wanted}
    pending = set(futures)
    deadline_hit = False
    try:
        while pending:
            now = time.monotonic()
            if now >= deadline_at:
                deadline_hit = True
                break
            with lock:
                expiries = [started[futures[f]] + options.probe_timeout for f in pending if futures[f] in started]
            wake = min([deadline_at, *expiries, now + 0.25])
            done, pending = cf.wait(pending, timeout=max(0.0, wake - now), return_when=cf.FIRST_COMPLETED)
            for f in done:
                k = futures[f]
                exc = f.exception()
                if exc is not None:
                    errors[k] = exc
                else:
                    values[k] = f.result()
                events.on_probe_done(k)
            now = time.monotonic()
            with lock:
                expired = {f for f in pending if futures[f] in started
                           and now - started[futures[f]] >= options.probe_timeout}
            for f in expired:
                k = futures[f]
                errors[k] = ProbeTimeout(f"probe {k} timed out after {options.probe_timeout:g}s")
                events.on_probe_done(k)
            pending -= expired
        for f in pending:
            k = futures[f]
            with lock:
                ran = k in started
            errors[k] = ProbeTimeout(
                f"overall deadline of {options.deadline:g}s reached "
                f"{'while the probe was running' if ran else 'before the probe could run'}")
            events.on_probe_done(k)
    finally:
        # Do not wait for stragglers: their results are already reported as timeouts. Their own
        # network timeouts end them shortly, and being daemon threads they never hold up the exit
        # of the process (a ThreadPoolExecutor's workers are joined at exit: a `--deadline 2` run
        # against a slow server took 10 s to return to the shell).
        pool.shutdown()
    return values, errors, deadline_hit


class _DaemonPool:
    """The part of ThreadPoolExecutor the runner needs, on daemon threads."""

    def __init__(self, workers: int):
        import queue

        self._queue: "queue.SimpleQueue" = queue.SimpleQueue()
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
