"""Run the pack's rules in-process exactly as the Pulumi engine would, without the engine.

The engine talks to a policy pack over gRPC: it calls Configure once with the reconciled policy
config, Analyze for every resource (its inputs) and AnalyzeStack once (every resource's outputs).
Here the SDK's own servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`) is driven with the
same protobuf messages, so rules run through the SDK's deserialisation (numbers become floats,
secrets are unwrapped), its unknown-value proxy (an unknown raises UnknownValueError, reported as
an advisory "can't run during preview") and its enforcement-level handling.

The policy config file has the form `pulumi preview --policy-pack-config` reads:
  {"all": "advisory", "hsts-max-age": {"enforcementLevel": "mandatory", "minMaxAge": 31536000},
   "cname-takeover-risk": "disabled"}
and is reconciled the way the CLI does it: each policy starts from its own enforcement level and
its schema defaults, "all" sets every level, then per-policy entries apply, then properties are
validated against the policy's config schema.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

PACK_NAME = "launchready"
PACK_VERSION = "0.1.0"

_LEVELS = {e.value: e for e in EnforcementLevel}
_PROTO_LEVEL = {proto.ADVISORY: EnforcementLevel.ADVISORY, proto.MANDATORY: EnforcementLevel.MANDATORY,
                proto.REMEDIATE: EnforcementLevel.REMEDIATE, proto.DISABLED: EnforcementLevel.DISABLED}


class PolicyConfigError(ValueError):
    """The policy config file is malformed (unknown policy, bad level, schema violation)."""


@dataclass
class Presented:
    """A resource as the engine holds it: inputs (for Analyze) and outputs (for AnalyzeStack)."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    parent: str = ""
    secret_paths: frozenset[str] = frozenset()   # property paths whose values are secret
    dependencies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: EnforcementLevel
    message: str           # the rule's own message (the SDK prefixes the description; removed here)
    urn: str = ""
    unknown: bool = False  # "can't run during preview": an unknown value reached the rule


# -- policy config ---------------------------------------------------------------------------------

@dataclass
class ResolvedConfig:
    levels: dict[str, EnforcementLevel]
    properties: dict[str, dict[str, Any]]


def reconcile_config(policies: Sequence[Any], given: Mapping[str, Any] | None,
                     initial: Mapping[str, Any] | None = None) -> ResolvedConfig:
    """The config the engine would hand the pack (and the gate checks), or PolicyConfigError.

    Order, as the CLI reconciles it: each policy's own level and schema defaults, then the pack's
    initial config, then the user's file ("all" first, then per-policy entries)."""
    given = dict(given or {})
    by_name = {p.name: p for p in policies}
    levels = {p.name: (p.enforcement_level or EnforcementLevel.ADVISORY) for p in policies}
    properties: dict[str, dict[str, Any]] = {}
    for p in policies:
        schema = getattr(p, "config_schema", None)
        props = schema.properties if schema else {}
        properties[p.name] = {k: v["default"] for k, v in props.items() if "default" in v}
    _apply_initial(initial or {}, levels, properties)
    if "all" in given:
        level = _level_of("all", given.pop("all"))
        levels = {name: level for name in levels}
    for name, value in given.items():
        _apply_entry(name, value, by_name, levels, properties)
    return ResolvedConfig(levels, properties)


def _level_of(key: str, value: Any) -> EnforcementLevel:
    if not isinstance(value, str) or value not in _LEVELS:
        raise PolicyConfigError(f"{key}: enforcement level {value!r} is not one of "
                                f"{', '.join(sorted(_LEVELS))}")
    return _LEVELS[value]


def _apply_initial(initial: Mapping[str, Any], levels: dict, properties: dict) -> None:
    """The pack's initial config (levels as EnforcementLevel or strings, settings), trusted as given."""
    for name, value in initial.items():
        if name not in levels:
            continue
        if isinstance(value, EnforcementLevel):
            levels[name] = value
            continue
        value = dict(value)
        if "enforcementLevel" in value:
            lv = value.pop("enforcementLevel")
            levels[name] = lv if isinstance(lv, EnforcementLevel) else _LEVELS[lv]
        properties[name].update(value)


def _apply_entry(name: str, value: Any, by_name: Mapping[str, Any], levels: dict, properties: dict) -> None:
    """One per-policy entry of the user's file: a level, or an object of level and properties,
    checked against the policy's config schema."""
    import difflib

    import jsonschema

    if name not in by_name:
        guess = difflib.get_close_matches(name, list(by_name), n=1)
        raise PolicyConfigError(f"{name}: no such policy in the pack" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    if isinstance(value, str):
        levels[name] = _level_of(name, value)
        return
    if not isinstance(value, dict):
        raise PolicyConfigError(f"{name}: expected an enforcement level or an object, got {type(value).__name__}")
    value = dict(value)
    if "enforcementLevel" in value:
        levels[name] = _level_of(f"{name}.enforcementLevel", value.pop("enforcementLevel"))
    schema = getattr(by_name[name], "config_schema", None)
    known = schema.properties if schema else {}
    for key in value:
        if key not in known:
            hint = f" (it takes: {', '.join(sorted(known))})" if known else " (it takes no properties)"
            raise PolicyConfigError(f"{name}.{key}: unknown property{hint}")
    properties[name].update(value)
    try:
        jsonschema.validate(properties[name], {"type": "object", "properties": known,
                                               "required": list(schema.required or []) if schema else []})
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        raise PolicyConfigError(f"{name}{'.' + where if where else ''}: {exc.message}") from None


def load_config_file(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise PolicyConfigError(f"{path}: policy config file not found") from None
    except (OSError, ValueError) as exc:
        raise PolicyConfigError(f"{path}: not a valid JSON policy config ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object keyed by policy name")
    return data


# -- wire format -----------------------------------------------------------------------------------

def _wire(value: Any, path: str, secret_paths: frozenset[str]) -> Any:
    """A property value as the engine marshals it: secrets wrapped in the secret signature."""
    if path in secret_paths:
        return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": _wire(value, "\0", frozenset())}
    if isinstance(value, Mapping):
        return {str(k): _wire(v, f"{path}.{k}" if path else str(k), secret_paths) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _struct(props: Mapping[str, Any], secret_paths: frozenset[str]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(_wire(props, "", secret_paths))  # numbers become doubles, as on the wire
    return s


def _options(res: Presented) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(parent=res.parent or "")


# -- running ---------------------------------------------------------------------------------------

class Analyzer:
    """The pack's servicer, configured once, run over many resources.

    The SDK's Analyze hands every request to every resource policy, deserialising the properties
    for each. A rule that does not list a resource's type returns at once, so each resource is
    sent to a servicer holding only the rules that can apply to its type: the same diagnostics,
    without the idle deserialisation (which dominates on large stacks).
    """

    def __init__(self, policies: Sequence[Any], config: ResolvedConfig):
        self.policies = list(policies)
        self.config = config
        self.descriptions = {p.name: p.description for p in self.policies}
        self._by_type: dict[str, Any] = {}

    def _servicer(self, policies: list) -> _PolicyAnalyzerServicer | None:
        if not policies:
            return None
        servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, policies, EnforcementLevel.ADVISORY)
        request = proto.ConfigureAnalyzerRequest()
        for p in policies:
            pc = proto.PolicyConfig(enforcementLevel=servicer._map_enforcement_level(self.config.levels[p.name]))
            props = self.config.properties.get(p.name) or {}
            if props:
                pc.properties.update(props)
            request.policyConfig[p.name].CopyFrom(pc)
        servicer.Configure(request, None)
        return servicer

    def _for_type(self, type_: str):
        if type_ not in self._by_type:
            applicable = [p for p in self.policies if _is_resource_policy(p)
                          and (not getattr(p, "types", None) or type_ in p.types)]
            self._by_type[type_] = self._servicer(applicable)
        return self._by_type[type_]

    def _diagnostics(self, response, default_urn: str = "") -> list[Diagnostic]:
        out = []
        for d in response.diagnostics:
            message = d.message
            unknown = message.startswith(f"can't run policy '{d.policyName}'")
            prefix = self.descriptions.get(d.policyName, "")
            if not unknown and message.startswith(prefix):
                message = message[len(prefix):].lstrip("\n")
            out.append(Diagnostic(d.policyName, _PROTO_LEVEL[d.enforcementLevel], message or prefix,
                                  d.urn or default_urn, unknown))
        return out

    def analyze(self, res: Presented) -> list[Diagnostic]:
        servicer = self._for_type(res.type)
        if servicer is None:
            return []
        request = proto.AnalyzeRequest(type=res.type, properties=_struct(res.inputs, res.secret_paths),
                                       urn=res.urn, name=res.name, options=_options(res))
        return self._diagnostics(servicer.Analyze(request, None), res.urn)

    def analyze_stack(self, resources: Iterable[Presented]) -> list[Diagnostic]:
        """AnalyzeStack, as the SDK's servicer does it, but deserialising the stack once.

        The SDK rebuilds every PolicyResource for each stack policy (protobuf → dict → proxies),
        which is quadratic in practice (16 stack rules × thousands of resources). The steps below
        are the servicer's own (pulumi_policy.policy._PolicyAnalyzerServicer.AnalyzeStack): the same
        deserialisation and unknown-value proxy, parents and dependencies resolved to resources,
        REMEDIATE reported as MANDATORY, UnknownValueError reported as an advisory "can't run", a
        not-applicable policy skipped. Policies only read the shared resources.
        """
        from google.protobuf import json_format
        from pulumi_policy import PolicyResource, StackValidationArgs
        from pulumi_policy.deserialize import deserialize_properties
        from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResourceOptions, _NotApplicableError
        from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

        policies = [p for p in self.policies if not _is_resource_policy(p)
                    and self.config.levels[p.name] != EnforcementLevel.DISABLED]
        if not policies:
            return []
        resources = list(resources)
        built: list[PolicyResource] = []
        for res in resources:
            outputs = res.outputs if res.outputs is not None else res.inputs
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(
                _struct(outputs, res.secret_paths))))
            opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], res.parent or None)
            built.append(PolicyResource(res.type, props, res.urn, res.name, opts, None, None, [], {}))
        by_urn = {r.urn: r for r in built}
        for res, policy_resource in zip(resources, built, strict=False):
            if res.parent and res.parent in by_urn:
                policy_resource.parent = by_urn[res.parent]
            policy_resource.dependencies.extend(by_urn[d] for d in res.dependencies if d in by_urn)

        out: list[Diagnostic] = []
        for policy in policies:
            level = self.config.levels[policy.name]
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            found: list[Diagnostic] = []

            def report(message: str, urn: str | None = None, _p=policy, _level=level, _found=found) -> None:
                _found.append(Diagnostic(_p.name, _level, message or _p.description, urn or ""))

            # Policy config reaches a policy through protobuf too (numbers as floats), as Configure gives it.
            given = self.config.properties.get(policy.name) or {}
            cfg = json_format.MessageToDict(_struct(given, frozenset())) if given else None
            args = StackValidationArgs(built, cfg)
            try:
                policy.validate(args, report)
            except UnknownValueError as exc:
                found.append(Diagnostic(policy.name, EnforcementLevel.ADVISORY,
                                        f"can't run policy '{policy.name}' from policy pack "
                                        f"'{PACK_NAME}@v{PACK_VERSION}' during preview: {exc.message}", "", True))
            except _NotApplicableError:
                pass  # what was reported before stays reported, as in the SDK
            out += found
        return out

    def run(self, resources: Sequence[Presented]) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for res in resources:
            out += self.analyze(res)
        out += self.analyze_stack(resources)
        return out


def _is_resource_policy(policy: Any) -> bool:
    from pulumi_policy import ResourceValidationPolicy

    return isinstance(policy, ResourceValidationPolicy)


def run_rules(policies: Sequence[Any], resources: Sequence[Presented],
              config: Mapping[str, Any] | None = None) -> list[Diagnostic]:
    """Convenience for tests: reconcile `config`, then Analyze + AnalyzeStack."""
    return Analyzer(policies, reconcile_config(policies, config)).run(resources)
