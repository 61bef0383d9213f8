"""The rule registry: every rule of the pack, with the metadata an auditor reads.

A rule is a pulumi_policy policy (so the real engine runs it unchanged) that also carries its area,
the pure `check` function it wraps and, for the offline gate, hints to locate a violation in the
stack file. Rules are declared with the `resource_rule` / `stack_rule` decorators in the modules
under policies/rules/; `policies.rules.ALL` lists them in catalogue order.

Gate checks (stack-file and repository secret scans, plaintext secrets in state) cannot run inside
the engine; they are registered here as `GateCheck`s so that the catalogue, the policy config
file and the reports treat them exactly like rules.

A check function yields violation messages (str). It reads properties through the SDK's proxies:
an unknown preview value raises UnknownValueError, which the SDK turns into an advisory "can't run
during preview" diagnostic, as the engine does; checks therefore never catch it.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
DISABLED = EnforcementLevel.DISABLED

LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

AREAS = ("edge", "dns", "mail", "secrets", "monitoring", "apply", "repository")


def _schema(config: dict | None) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=dict(config)) if config else None


def _defaults(config: dict | None) -> dict[str, Any]:
    return {k: v["default"] for k, v in (config or {}).items() if "default" in v}


class _RuleMixin:
    area: str
    check: Callable
    defaults: dict[str, Any]
    # Stack-file keys (spec key paths) that usually hold the cause, most specific first.
    spec_keys: tuple[str, ...]
    # Optional: (message, resource, spec) -> spec key paths naming the exact cause of one violation
    # (e.g. `rateLimits[1].period` for "rule 'ratelimit_1': period 30 s"), tried before spec_keys.
    locator: Callable | None = None

    def locate_keys(self, message: str, resource: Any, spec: Any) -> list[str]:
        if self.locator is None:
            return []
        try:
            return list(self.locator(message, resource, spec) or ())
        except Exception:  # noqa: BLE001 - a locator never hides a finding; spec_keys still apply
            return []

    def settings(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The rule's config: schema defaults overlaid with what the policy config file gives."""
        return {**self.defaults, **dict(given or {})}

    @property
    def kind(self) -> str:
        return "resource" if isinstance(self, ResourceValidationPolicy) else "stack"


class ResourceRule(_RuleMixin, ResourceValidationPolicy):
    """Judges one resource (of the listed types) at a time."""

    def __init__(self, *, name: str, area: str, description: str, remediation: str, severity: Severity,
                 enforcement: EnforcementLevel, types: Iterable[str], check: Callable,
                 config: dict | None = None, spec_keys: Iterable[str] = (), locator: Callable | None = None):
        super().__init__(name=name, description=description, enforcement_level=enforcement,
                         config_schema=_schema(config), severity=severity, tags=[area],
                         remediation_steps=remediation)
        self.area, self.check, self.types = area, check, frozenset(types)
        self.defaults, self.spec_keys, self.locator = _defaults(config), tuple(spec_keys), locator
        # A check that takes a third parameter is also told the resource type.
        self._wants_type = len(inspect.signature(check).parameters) >= 3

    def run_check(self, resource_type: str, props: Any, config: Mapping[str, Any]):
        if self._wants_type:
            return self.check(props, config, resource_type)
        return self.check(props, config)

    def validate(self, args: ResourceValidationArgs, report_violation: ReportViolation):
        if self.types and args.resource_type not in self.types:
            return None
        for message in self.run_check(args.resource_type, args.props, self.settings(args.get_config())) or ():
            report_violation(message, None)
        return None


class StackRule(_RuleMixin, StackValidationPolicy):
    """Judges relations between the resources of the whole stack."""

    def __init__(self, *, name: str, area: str, description: str, remediation: str, severity: Severity,
                 enforcement: EnforcementLevel, check: Callable, config: dict | None = None,
                 spec_keys: Iterable[str] = (), locator: Callable | None = None):
        super().__init__(name=name, description=description, enforcement_level=enforcement,
                         config_schema=_schema(config), severity=severity, tags=[area],
                         remediation_steps=remediation)
        self.area, self.check = area, check
        self.defaults, self.spec_keys, self.locator = _defaults(config), tuple(spec_keys), locator

    def validate(self, args: StackValidationArgs, report_violation: ReportViolation):
        for item in self.check(args.resources, self.settings(args.get_config())) or ():
            # A stack check yields a message, or (message, urn) to point at one resource.
            message, urn = item if isinstance(item, tuple) else (item, None)
            report_violation(message, urn)
        return None


@dataclass(frozen=True)
class GateCheck:
    """A check only the offline gate can run (it reads files or secretness the engine hides)."""

    name: str
    area: str
    description: str
    remediation: str
    severity: Severity
    enforcement_level: EnforcementLevel
    config: dict = field(default_factory=dict)
    kind: str = "gate"

    @property
    def remediation_steps(self) -> str:
        return self.remediation

    @property
    def config_schema(self) -> PolicyConfigSchema | None:
        return _schema(self.config)

    @property
    def defaults(self) -> dict[str, Any]:
        return _defaults(self.config)

    def settings(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.defaults, **dict(given or {})}


@dataclass(frozen=True)
class ScanFinding:
    """One finding of a GateCheck: a file and line (or a resource URN), never the value."""

    check: str
    message: str
    file: str | None = None
    line: int | None = None
    secret: str = ""          # kept only to redact it from every output; never rendered
    urn: str = ""


def resource_rule(name: str, *, area: str, types: Iterable[str], description: str, remediation: str,
                  severity: Severity, enforcement: EnforcementLevel = MANDATORY, config: dict | None = None,
                  spec_keys: Iterable[str] = (), locator: Callable | None = None):
    """Decorator: turn `check(props, config[, resource_type]) -> Iterable[str]` into a ResourceRule."""
    def wrap(fn: Callable) -> ResourceRule:
        return ResourceRule(name=name, area=area, description=description, remediation=remediation.strip(),
                            severity=severity, enforcement=enforcement, types=types, check=fn,
                            config=config, spec_keys=spec_keys, locator=locator)
    return wrap


def stack_rule(name: str, *, area: str, description: str, remediation: str, severity: Severity,
               enforcement: EnforcementLevel = MANDATORY, config: dict | None = None,
               spec_keys: Iterable[str] = (), locator: Callable | None = None):
    """Decorator: turn `check(resources, config) -> Iterable[str | (str, urn)]` into a StackRule."""
    def wrap(fn: Callable) -> StackRule:
        return StackRule(name=name, area=area, description=description, remediation=remediation.strip(),
                         severity=severity, enforcement=enforcement, check=fn, config=config,
                         spec_keys=spec_keys, locator=locator)
    return wrap
