"""What check and probe modules declare: probe keys, items, checks, observations.

A check is declared once with a stable kebab-case id and a group. Its `plan` turns the expectations
into items (one per target, each naming the probe keys it needs) or a SKIPPED reason; its `judge`
is a pure function of (item, observations) returning a Verdict. The decorators here only describe:
they register nothing. Each check module lists its checks in a CHECKS tuple and each probe module
its probes in a PROBES tuple; `verify.checks` and `verify.probes` name those modules, and
`checks_by_id` / `probes_by_kind` build the registries from them. This module imports no check.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Verdict

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


def probe(kind: str, *, journey: bool = False) -> Callable[[ProbeFn], ProbeFn]:
    """Declare a probe function fn(ctx, *args) -> a typed observation (or raise) for `kind`.
    The function is returned unchanged, marked with its kind; a PROBES tuple lists it. A `journey`
    probe runs many bounded steps in sequence (a signed-in portal walk): the per-probe timeout does
    not apply to it, only the run's deadline."""
    def deco(fn: ProbeFn) -> ProbeFn:
        fn.probe_kind = kind  # type: ignore[attr-defined]
        fn.probe_journey = journey  # type: ignore[attr-defined]
        return fn
    return deco


def probes_by_kind(fns: Iterable[ProbeFn]) -> dict[str, ProbeFn]:
    """The probe registry: kind -> function, refusing a kind declared twice."""
    out: dict[str, ProbeFn] = {}
    for fn in fns:
        kind = getattr(fn, "probe_kind", None)
        if kind is None:
            raise ValueError(f"{fn!r} is not declared with @probe(kind)")
        if kind in out and out[kind] is not fn:
            raise ValueError(f"probe kind {kind!r} registered twice")
        out[kind] = fn
    return out


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
    def of(cls, mapping: Mapping[ProbeKey, Any]) -> Observations:
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


def check(id: str, group: str, title: str, plan: PlanFn) -> Callable[[JudgeFn], JudgeFn]:
    """Decorator form: @check("spf-lookups", "mail", "SPF needs at most 10 lookups", plan=...).
    The judge is returned unchanged (unit tests call it directly); its Check is `judge.check`."""
    def deco(judge: JudgeFn) -> JudgeFn:
        judge.check = Check(id=id, group=group, title=title, plan=plan, judge=judge)  # type: ignore[attr-defined]
        return judge
    return deco


def checks_of(*judges: JudgeFn) -> tuple[Check, ...]:
    """A module's CHECKS tuple, in the order given (the order of `--list` and of the report)."""
    return tuple(j.check for j in judges)  # type: ignore[attr-defined]


def checks_by_id(checks: Iterable[Check]) -> dict[str, Check]:
    """The check registry: id -> Check in the given order; ids are unique and kebab-case."""
    out: dict[str, Check] = {}
    for c in checks:
        if c.id in out and out[c.id] is not c:
            raise ValueError(f"check id {c.id!r} registered twice")
        if c.id != c.id.lower() or " " in c.id or "_" in c.id:
            raise ValueError(f"check id {c.id!r} is not kebab-case")
        out[c.id] = c
    return out
