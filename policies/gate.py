"""The offline pull-request gate: the pack's rules on the program's resources, plus secret scans.

1. Load the stack file (a malformed spec stops here: spec errors, exit 2).
2. Run the real launch program under Pulumi's mock runtime with the stack's config
   (infra.mockrun), which records every resource with engine property names and the paths of
   its secret values.
3. Present each resource to the rules through the SDK's own analyzer servicer (policies.engine),
   as the engine would: Analyze per resource (inputs), AnalyzeStack once (outputs), numbers as
   floats, secrets unwrapped, the policy config reconciled as `--policy-pack-config` is.
4. Run the gate-only checks (policies.scan): plaintext secrets in the stack file, credentials
   committed in the repository (detect-secrets), secret values that would reach state unmarked.
5. Locate each finding in the stack file (or the infra source), redact every secret value, and
   hand the result to a renderer. Exit 1 on a mandatory violation, 0 otherwise.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .report import Finding, GateResult, RuleInfo

REDACTED = "[secret]"


@dataclass
class GateOptions:
    stack: str
    stacks_dir: str = "stacks"
    policy_config: Optional[str] = None          # JSON file, the `--policy-pack-config` form
    root: str = "."                              # repository root for the repository scan
    scan_repo: bool = True
    scan_paths: list[str] = field(default_factory=list)   # overrides repo-secret-committed.paths
    baseline: Optional[str] = None                        # overrides repo-secret-committed.baseline


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
                    description=rule.description, remediation=rule.remediation_steps or "")


def _redactor(secrets: set[str]):
    values = sorted((s for s in secrets if isinstance(s, str) and len(s) >= 4), key=len, reverse=True)

    def redact(text: str) -> str:
        for v in values:
            if v in text:
                text = text.replace(v, REDACTED)
        return text
    return redact


def run_gate(opts: GateOptions) -> GateResult:
    from infra.spec import SpecError, parse_spec, read_stack_file, stack_name, stack_path

    from .engine import Analyzer, PolicyConfigError, load_config_file, reconcile_config
    from .locate import locate
    from .rules import ALL, initial_config
    from .scan import GATE_CHECKS, REPO_SECRET, ScanError, check_scan_config, scan_repository, scan_stack_file, scan_state

    path = stack_path(opts.stack, opts.stacks_dir)
    result = GateResult(stack=stack_name(opts.stack), stack_file=str(path))
    try:
        source = read_stack_file(path)
        spec = parse_spec(source)
    except SpecError as exc:
        result.errors = str(exc).splitlines()
        return result

    everything = list(ALL) + list(GATE_CHECKS)
    try:
        resolved = reconcile_config(everything, load_config_file(opts.policy_config),
                                    initial=initial_config(spec.environment))
    except PolicyConfigError as exc:
        result.errors = [f"policy config: {exc}"]
        return result
    result.rules = [_rule_info(r, resolved.levels[r.name]) for r in everything]
    by_name = {r.name: r for r in everything}

    # A scan path, root or explicit baseline that is not there means the repository scan cannot
    # check what it was asked to: "could not check" (exit 2) before anything runs, never a pass.
    repo_scan = None
    if opts.scan_repo and resolved.levels[REPO_SECRET.name].value != "disabled":
        cfg = dict(resolved.properties[REPO_SECRET.name])
        if opts.scan_paths:
            cfg["paths"] = list(opts.scan_paths)
        if opts.baseline:
            cfg["baseline"] = opts.baseline
        required = bool(opts.baseline) or cfg["baseline"] != REPO_SECRET.defaults["baseline"]
        problems = check_scan_config(cfg, Path(opts.root), required)
        if problems:
            result.errors = problems
            return result
        repo_scan = (cfg, required)

    secrets: set[str] = {v for k, v in source.values.items() if k in source.secret_keys}
    clock = time.perf_counter()
    try:
        from infra.mockrun import run_program

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = run_program(source, stack=result.stack)
    except SpecError as exc:
        result.errors = str(exc).splitlines()
        return result
    except Exception as exc:  # noqa: BLE001 - a broken program is reported, never a traceback
        redact = _redactor(secrets)
        result.errors = [f"{path}: the launch program failed under the mock runtime: "
                         f"{type(exc).__name__}: {redact(str(exc)).splitlines()[0] if str(exc) else ''}"]
        return result
    result.timings["program"] = time.perf_counter() - clock
    clock = time.perf_counter()
    result.resources = len([r for r in run.resources if r.custom])
    by_urn = {r.urn: r for r in run.resources}
    for r in run.resources:
        for p in r.secret_paths:
            secrets |= {v for k, v in _leaf_values(r.inputs, p)}

    # -- the rules, as the engine runs them ---------------------------------------------------------
    analyzer = Analyzer(ALL, resolved)
    findings: list[Finding] = []
    for d in analyzer.run(_presented(run.resources)):
        rule = by_name[d.policy]
        res = by_urn.get(d.urn)
        file, line = locate(rule, res, spec, source, d.message)
        findings.append(Finding(
            rule=d.policy, level=d.level.value if d.level.value != "remediate" else "mandatory",
            severity=rule.severity.value, area=rule.area, message=d.message,
            remediation=rule.remediation_steps or "", resource_urn=d.urn,
            resource_type=res.type if res else "", resource_name=res.name if res else "",
            file=file, line=line, unknown=d.unknown))

    result.timings["rules"] = time.perf_counter() - clock
    clock = time.perf_counter()

    # -- gate-only checks -------------------------------------------------------------------------
    scans = []
    levels = resolved.levels
    if levels["stack-file-plaintext-secret"].value != "disabled":
        scans += scan_stack_file(source)
    if levels["state-plaintext-secret"].value != "disabled":
        scans += scan_state(run.resources)
    if repo_scan:
        try:
            scans += scan_repository(repo_scan[0], Path(opts.root), require_baseline=repo_scan[1])
        except ScanError as exc:
            result.errors = str(exc).splitlines()
            return result
    for s in scans:
        check = by_name[s.check]
        secrets.add(s.secret)
        res = by_urn.get(s.urn)
        file, line = (s.file, s.line) if s.file else locate(check, res, spec, source)
        findings.append(Finding(
            rule=s.check, level=levels[s.check].value, severity=check.severity.value, area=check.area,
            message=s.message, remediation=check.remediation, resource_urn=s.urn,
            resource_type=res.type if res else "", resource_name=res.name if res else "",
            file=file, line=line or 1))

    result.timings["scans"] = time.perf_counter() - clock
    redact = _redactor(secrets)
    result.findings = [_redacted(f, redact) for f in findings if f.level in ("mandatory", "advisory")]
    return result


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


def _redacted(f: Finding, redact) -> Finding:
    from dataclasses import replace

    return replace(f, message=redact(f.message), resource_name=redact(f.resource_name))
