"""verify's engine as the command line and the tests use it: the runner with this project's checks
and probes.

This is the composition root, the one module above both the runner and the check/probe lists:
`verify.registry` declares (what check and probe modules import), `verify.runner` runs what it is
given, `verify.checks` and `verify.probes` list the modules. Nothing below imports this module, so
importing a check module registers nothing and no import goes both ways.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import checks as _checks
from . import probes as _probes
from .model import Report
from .registry import (
    Check,
    Item,
    JudgeFn,
    NotApplicable,
    Observations,
    PlanFn,
    ProbeFailed,
    ProbeFn,
    ProbeKey,
    ProbeTimeout,
    check,
    checks_by_id,
    checks_of,
    key,
    probe,
    probes_by_kind,
)
from .runner import RunEvents, RunOptions, SelectionError, select
from .runner import run as _run

__all__ = [
    "Check", "Item", "JudgeFn", "NotApplicable", "Observations", "PlanFn", "ProbeFailed", "ProbeFn", "ProbeKey",
    "ProbeTimeout", "RunEvents", "RunOptions", "SelectionError", "check", "checks_by_id", "checks_of", "key",
    "load_all", "load_probes", "probe", "probes_by_kind", "run", "select",
]


def load_all() -> dict[str, Check]:
    """Every check of the project, by id, in `--list` order (built from verify.checks.CHECK_MODULES)."""
    return _checks.registry()


def load_probes() -> dict[str, ProbeFn]:
    """Every probe of the project, by kind (built from verify.probes.PROBE_MODULES)."""
    return _probes.registry()


def run(checks: Sequence[Check], ctx: Any, expectations: Any, options: RunOptions | None = None,
        events: RunEvents | None = None, *, probes: Mapping[str, ProbeFn] | None = None, stack: str = "",
        domain: str = "", nameservers: Sequence[str] = ()) -> Report:
    """verify.runner.run with the project's probes unless `probes` (kind -> fn) is given."""
    return _run(checks, ctx, expectations, options, events, probes=load_probes() if probes is None else probes,
                stack=stack, domain=domain, nameservers=nameservers)
