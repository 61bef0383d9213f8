"""The offline pull-request gate: the pack's rules on the program's resources, plus secret scans.

1. Load the stack file (a malformed spec stops here: spec errors, exit 2).
2. Run the real launch program under Pulumi's mock runtime with the stack's config
   (infra.mockrun), which records every resource with engine property names and the paths of
   its secret values.
3. Present each resource to the rules through the SDK's own analyzer servicer (policies.engine),
   as the engine would: Analyze per resource (inputs), AnalyzeStack once (outputs), numbers as
   floats, secrets unwrapped, the policy config reconciled as `--policy-pack-config` is.
4. Run the gate-only checks (policies.scan): plaintext secrets in the stack file, credentials
   committed in the repository (detect-secrets), secret values that would reach state unmarked,
   secret config keys not set yet (advisory).
5. Locate each finding in the stack file (or the infra source), redact every secret value, and
   hand the result to a renderer. Exit 1 on a mandatory violation, 0 otherwise.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.findings import Finding, Location, Report, RuleInfo, Status

from .context import use_spec

REDACTED = "[secret]"
# A diagnostic's enforcement level → the finding's status (REMEDIATE is reported as MANDATORY, as the
# engine does). A rule that could not run on an unknown preview value is ERROR, level advisory.
_STATUS = {"mandatory": Status.FAIL, "remediate": Status.FAIL, "advisory": Status.WARN}


@dataclass
class GateOptions:
    stack: str
    stacks_dir: str = "stacks"
    policy_config: str | None = None          # JSON file, the `--policy-pack-config` form
    root: str = "."                              # repository root for the repository scan
    scan_repo: bool = True
    scan_paths: list[str] = field(default_factory=list)   # overrides repo-secret-committed.paths
    baseline: str | None = None                        # overrides repo-secret-committed.baseline


def _presented(run_resources: list) -> list:
    """PlannedResources as the engine presents them, with dependencies recovered from values.

    The mock runtime records inputs, outputs and secret paths but not the dependency lists the
    engine sends; a resource is taken to depend on another when an input carries the other's id
    or ARN (which is how the program wires them: alarm → health-check id, subscription → topic ARN).
    """
    from .engine import Presented
    from .props import strings

    owners: dict[str, str] = {}
    for r in run_resources:
        if r.custom:
            if r.id:
                owners.setdefault(r.id, r.urn)
            arn = (r.outputs or {}).get("arn")
            if isinstance(arn, str) and arn:
                owners.setdefault(arn, r.urn)
    out = []
    for r in run_resources:
        deps = sorted({owners[v] for _, v in strings(r.inputs) if v in owners and owners[v] != r.urn})
        out.append(Presented(type=r.type, name=r.name, urn=r.urn, inputs=r.inputs, outputs=r.outputs or r.inputs,
                             parent=r.parent or "", secret_paths=frozenset(r.secret_paths), dependencies=deps))
    return out


def _rule_info(rule: Any, level: Any) -> RuleInfo:
    return RuleInfo(id=rule.name, area=rule.area, kind=rule.kind, severity=rule.severity.value, level=level.value,
                    default_level=(rule.enforcement_level.value if rule.enforcement_level else "advisory"),
                    title=rule.description, remediation=rule.remediation_steps or "")


# Secret values shorter than this are not matched by value: a 4-letter password equals too many
# ordinary words (a folder, a host label) to be told apart, and masking those hid innocent text.
MIN_SECRET_LENGTH = 8
# A secret is matched as a whole token: not glued to a letter or digit on either side (quotes,
# spaces, '=', ':', '/', '@', '.', '-' ... are boundaries), so `deployment` keeps its letters when
# a secret is `deploy...`-like, while `key=<secret>`, `'<secret>'` and `user:<secret>@host` are masked.
_EDGE = r"[A-Za-z0-9]"


def _redactor(secrets: set[str]):
    """Replace each secret value (of at least MIN_SECRET_LENGTH characters) wherever it stands as a
    token of the text, and nothing around it; longer secrets first, so one that contains another
    is masked whole."""
    import re

    values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    if not values:
        return lambda text: text
    def token(v: str) -> str:
        # An edge of the secret that is itself not a letter or digit is a boundary already.
        before = f"(?<!{_EDGE})" if re.fullmatch(_EDGE, v[0]) else ""
        after = f"(?!{_EDGE})" if re.fullmatch(_EDGE, v[-1]) else ""
        return f"{before}{re.escape(v)}{after}"
    pattern = re.compile("|".join(token(v) for v in values))

    def redact(text: str) -> str:
        return pattern.sub(REDACTED, text) if text else text
    return redact


@dataclass
class _Run:
    """What one gate run has gathered so far; `report()` freezes it."""

    stack: str
    stack_file: str
    findings: list[Finding] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    resources: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def report(self) -> Report:
        redact = _redactor(self.secrets)
        kept = [f.redacted(redact) for f in self.findings if f.status in (Status.FAIL, Status.WARN, Status.ERROR)]
        return Report(command="gate", stack=self.stack, findings=tuple(kept), rules=tuple(self.rules),
                      errors=tuple(self.errors),
                      subject={"stackFile": self.stack_file, "resources": self.resources,
                               "timings": {k: round(v, 3) for k, v in self.timings.items()}})


def _finding(rule: Any, status: Status, level: str, message: str, res: Any, file: str | None,
             line: int | None, urn: str = "") -> Finding:
    return Finding(id=rule.name, status=status, level=level, severity=rule.severity.value, area=rule.area,
                   message=message, remediation=rule.remediation_steps or "",
                   location=Location(file=file, line=line, resource_urn=urn,
                                     resource_type=res.type if res else "", resource_name=res.name if res else ""))


def run_gate(opts: GateOptions) -> Report:
    """Load the spec once, run the program under mocks, judge it, scan; never raises for bad input."""
    from infra.spec import SpecError, parse_spec, read_stack_file, stack_name, stack_path

    path = stack_path(opts.stack, opts.stacks_dir)
    run = _Run(stack=stack_name(opts.stack), stack_file=str(path))
    try:
        source = read_stack_file(path)
        spec = parse_spec(source)
    except SpecError as exc:
        run.errors = str(exc).splitlines()
        return run.report()
    resolved = _resolve_config(opts, spec, run)
    if resolved is None:
        return run.report()
    repo_scan = _repo_scan_config(opts, resolved, run)
    if run.errors:
        return run.report()
    run.secrets = {v for k, v in source.values.items() if k in source.secret_keys}
    planned = _run_program(source, spec, path, run)
    if planned is None:
        return run.report()
    # The rules read the spec loaded above (policies.context), never the config again.
    with use_spec(spec):
        _judge(planned, spec, source, resolved, run)
    _scan(opts, planned, spec, source, resolved, repo_scan, run)
    return run.report()


def _resolve_config(opts: GateOptions, spec: Any, run: _Run):
    from .engine import PolicyConfigError, load_config_file, reconcile_config
    from .rules import ALL, initial_config
    from .scan import GATE_CHECKS

    everything = list(ALL) + list(GATE_CHECKS)
    try:
        resolved = reconcile_config(everything, load_config_file(opts.policy_config),
                                    initial=initial_config(spec.environment, run.stack))
    except PolicyConfigError as exc:
        run.errors = [f"policy config: {exc}"]
        return None
    run.rules = [_rule_info(r, resolved.levels[r.name]) for r in everything]
    return resolved


def _repo_scan_config(opts: GateOptions, resolved: Any, run: _Run) -> tuple[dict, bool] | None:
    """The repository scan's settings, or None when it is off. A scan path, root or explicit
    baseline that is not there means the scan cannot check what it was asked to: "could not
    check" (exit 2) before anything runs, never a pass."""
    from .scan import REPO_SECRET, check_scan_config

    if not opts.scan_repo or resolved.levels[REPO_SECRET.name].value == "disabled":
        return None
    cfg = dict(resolved.properties[REPO_SECRET.name])
    if opts.scan_paths:
        cfg["paths"] = list(opts.scan_paths)
    if opts.baseline:
        cfg["baseline"] = opts.baseline
    required = bool(opts.baseline) or cfg["baseline"] != REPO_SECRET.defaults["baseline"]
    problems = check_scan_config(cfg, Path(opts.root), required)
    if problems:
        run.errors = problems
        return None
    return cfg, required


def _run_program(source: Any, spec: Any, path: Path, run: _Run):
    from infra.mockrun import run_program
    from infra.spec import SpecError

    clock = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            planned = run_program(source, stack=run.stack, spec=spec)
    except SpecError as exc:
        run.errors = str(exc).splitlines()
        return None
    except Exception as exc:  # noqa: BLE001 - a broken program is reported, never a traceback
        redact = _redactor(run.secrets)
        run.errors = [f"{path}: the launch program failed under the mock runtime: "
                      f"{type(exc).__name__}: {redact(str(exc)).splitlines()[0] if str(exc) else ''}"]
        return None
    run.timings["program"] = time.perf_counter() - clock
    run.resources = len([r for r in planned.resources if r.custom])
    for r in planned.resources:
        for p in r.secret_paths:
            run.secrets |= {v for _, v in _leaf_values(r.inputs, p)}
    return planned


def _judge(planned: Any, spec: Any, source: Any, resolved: Any, run: _Run) -> None:
    """The rules, as the engine runs them (Analyze per resource, AnalyzeStack once)."""
    from .engine import Analyzer
    from .locate import locate
    from .rules import ALL

    clock = time.perf_counter()
    by_name = {r.name: r for r in ALL}
    by_urn = {r.urn: r for r in planned.resources}
    for d in Analyzer(ALL, resolved).run(_presented(planned.resources)):
        rule = by_name[d.policy]
        res = by_urn.get(d.urn)
        file, line = locate(rule, res, spec, source, d.message)
        level = "mandatory" if d.level.value == "remediate" else d.level.value
        if level not in _STATUS:
            continue
        status = Status.ERROR if d.unknown else _STATUS[level]
        run.findings.append(_finding(rule, status, level, d.message, res, file, line, d.urn))
    run.timings["rules"] = time.perf_counter() - clock


def _scan(opts: GateOptions, planned: Any, spec: Any, source: Any, resolved: Any,
          repo_scan: tuple[dict, bool] | None, run: _Run) -> None:
    """The gate-only checks: the stack file, the state, the repository."""
    from .locate import locate
    from .scan import (
        GATE_CHECKS,
        SECRET_UNSET,
        ScanError,
        scan_repository,
        scan_stack_file,
        scan_state,
        scan_unset_secrets,
    )

    clock = time.perf_counter()
    levels = resolved.levels
    scans = []
    if levels["stack-file-plaintext-secret"].value != "disabled":
        scans += scan_stack_file(source)
    if levels["state-plaintext-secret"].value != "disabled":
        scans += scan_state(planned.resources)
    if levels[SECRET_UNSET.name].value != "disabled":
        scans += scan_unset_secrets(source, spec, run.stack)
    if repo_scan:
        try:
            scans += scan_repository(repo_scan[0], Path(opts.root), require_baseline=repo_scan[1])
        except ScanError as exc:
            run.errors = str(exc).splitlines()
            return
    by_name = {c.name: c for c in GATE_CHECKS}
    by_urn = {r.urn: r for r in planned.resources}
    for s in scans:
        check, level = by_name[s.check], levels[s.check].value
        run.secrets.add(s.secret)
        res = by_urn.get(s.urn)
        file, line = (s.file, s.line) if s.file else locate(check, res, spec, source)
        if level in _STATUS:
            run.findings.append(_finding(check, _STATUS[level], level, s.message, res, file, line or 1, s.urn))
    run.timings["scans"] = time.perf_counter() - clock


def _leaf_values(value: Any, path: str):
    """(path, value) of the string leaves at or under `path` of an input tree."""
    node = value
    for part in _split(path):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return []
    from .props import strings

    return [(p, v) for p, v in strings(node)] if not isinstance(node, str) else [(path, node)]


def _split(path: str) -> list:
    import re

    out: list = []
    for key, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        out.append(int(idx) if idx else key)
    return out
