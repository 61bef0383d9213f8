"""Run the real launch program under Pulumi's mock runtime: no CLI, no credentials, no network.

Used by `launchready plan`, by the offline gate and by the tests. Providers are replaced by mocks
that echo inputs back as outputs, plus the few computed outputs the program reads (FAKE_OUTPUTS).
"""
from __future__ import annotations

import contextlib
import gc
import logging
import runpy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import settings as psettings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.spec import ConfigSource, Spec, parse_spec
from infra.spec.secretinputs import mock_config

PROJECT = "launchready"


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]          # engine property names (camelCase), secrets unwrapped
    custom: bool
    parent: str = ""                # parent URN ("" for the stack)
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    # URNs this resource depends on (explicit depends_on and every Output it was given).
    dependencies: tuple[str, ...] = ()
    # Property paths ("secretStringWo", "environment.variables.TOKEN") whose values were secret.
    secret_paths: frozenset[str] = frozenset()
    # The `import_` resource option: the provider id of an existing resource this one adopts.
    import_id: str = ""

    def masked_inputs(self) -> dict[str, Any]:
        """Inputs with every secret value replaced: the only form that may be printed."""
        return _mask(self.inputs, self.secret_paths, "")


@dataclass
class PlanRun:
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    _index: dict[str, PlannedResource] | None = field(default=None, repr=False, compare=False)

    def by_urn(self) -> dict[str, PlannedResource]:
        # Built once: the resource list is complete when a PlanRun is made.
        if self._index is None:
            self._index = {r.urn: r for r in self.resources}
        return self._index

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def custom(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.custom]

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def top_component(self, res: PlannedResource) -> PlannedResource | None:
        """The outermost component a resource belongs to."""
        index = self.by_urn()
        node, top = res, None
        while node.parent and node.parent in index:
            node = index[node.parent]
            top = node
        return top


def _fake_id(args: pmocks.MockResourceArgs) -> str:
    import hashlib

    return hashlib.sha1(f"{args.typ}/{args.name}".encode()).hexdigest()[:32]


# Computed outputs the program reads from providers, per resource type: (args) -> extra state.
FAKE_OUTPUTS: dict[str, Callable[[pmocks.MockResourceArgs], dict]] = {
    "cloudflare:index/zone:Zone": lambda a: {"nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]},
    "cloudflare:index/zoneDnssec:ZoneDnssec": lambda a: {
        "ds": "example.com. 3600 IN DS 2371 13 2 mock-digest", "status": "active"},
}

# -- mail, secrets, monitoring ----------------------------------------------------------------------

def _ses_tokens(args: pmocks.MockResourceArgs) -> dict:
    """Easy DKIM gives three 32-character tokens; derive stable fake ones from the identity."""
    import hashlib

    domain = args.inputs.get("emailIdentity", "")
    tokens = [hashlib.sha1(f"{domain}/{i}".encode()).hexdigest()[:32] for i in range(3)]
    attrs = {**(args.inputs.get("dkimSigningAttributes") or {}), "tokens": tokens, "status": "PENDING"}
    return {"dkimSigningAttributes": attrs, "arn": f"arn:aws:ses:eu-west-1:123456789012:identity/{domain}"}


FAKE_OUTPUTS.update({
    "aws:sesv2/emailIdentity:EmailIdentity": _ses_tokens,
    # A recognisable fake: tests search every output for it to prove it stays secret.
    "random:index/randomPassword:RandomPassword": lambda a: {"result": f"mock-generated-{a.name}", "bcryptHash": "mock"},
    "aws:kms/key:Key": lambda a: {"arn": f"arn:aws:kms:us-east-1:123456789012:key/{_fake_id(a)}", "keyId": _fake_id(a)},
    "aws:secretsmanager/secret:Secret": lambda a: {"arn": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{a.inputs.get('name')}"},
    "aws:sns/topic:Topic": lambda a: {"arn": f"arn:aws:sns:us-east-1:123456789012:{a.inputs.get('name')}"},
})

# Data-source (invoke) results, per token: (args) -> result.
FAKE_INVOKES: dict[str, Callable[[dict], dict]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a: {
        "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/mock", "userId": "MOCK", "id": "123456789012"},
    "aws:index/getPartition:getPartition": lambda a: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    "cloudflare:index/getZone:getZone": lambda a: {
        "id": "0" * 32, "zoneId": "0" * 32, "name": (a.get("filter") or {}).get("name", ""),
        "nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"], "status": "active",
    },
}


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, recorded: dict[str, PlannedResource]):
        self.recorded = recorded

    def new_resource(self, args: pmocks.MockResourceArgs):
        fake = FAKE_OUTPUTS.get(args.typ)
        state = {**args.inputs, **(fake(args) if fake else {})}
        return _fake_id(args), state

    def call(self, args: pmocks.MockCallArgs):
        fake = FAKE_INVOKES.get(args.token)
        return fake(args.args) if fake else {}


class _Monitor(pmocks.MockMonitor):
    """Records every registration with its parent, which MockResourceArgs does not carry."""

    def __init__(self, mocks: _Mocks):
        super().__init__(mocks)
        self.recorded = mocks.recorded

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            from pulumi.runtime import rpc

            reg = self.resources.get(response.urn)
            paths: set[str] = set()
            inputs = _unwrap(rpc.deserialize_properties(request.object), "", paths)
            self.recorded[response.urn] = PlannedResource(
                urn=response.urn, type=request.type, name=request.name, inputs=inputs,
                custom=bool(request.custom), parent=request.parent, id=reg.id if reg else "",
                outputs=dict(reg.state) if reg else {}, secret_paths=frozenset(paths), import_id=request.importId,
                dependencies=tuple(dict.fromkeys(
                    [*request.dependencies, *(u for deps in request.propertyDependencies.values() for u in deps.urns)])),
            )
        return response


SECRET_MASK = "[secret]"


def _unwrap(value: Any, path: str, secret_paths: set[str]) -> Any:
    """Unwrap secrets as the engine does for policies, remembering where they were."""
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        secret_paths.add(path)
        return _unwrap(rpc.unwrap_rpc_secret(value), path, set())
    if isinstance(value, dict):
        return {k: _unwrap(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def _mask(value: Any, secret_paths: frozenset[str], path: str) -> Any:
    if path in secret_paths:
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: _mask(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


INFRA_DIR = Path(__file__).resolve().parent


def run_as_engine() -> dict[str, Any]:
    """Run infra/__main__.py the way the Python language host does (runpy, infra/ first on sys.path)
    and return what it exported."""
    runpy.run_path(str(INFRA_DIR), run_name="__main__")
    return dict(psettings.ROOT.get().outputs)


def run_program(source: ConfigSource, stack: str = "example", preview: bool = True,
                as_engine: bool = False, spec: Spec | None = None) -> PlanRun:
    """Validate the spec, then run infra.program.main() under mocks with the stack's config map.

    spec: the spec already built from `source` (parse_spec(source)); main() is given it instead of
    building it again from the config. The config map is set all the same: components read it.
    as_engine=True runs infra/__main__.py through runpy instead, as `pulumi up` would; that reads
    the spec from config itself, so it takes no spec."""
    if spec is not None and as_engine:
        raise ValueError("as_engine runs infra/__main__.py, which reads the spec from config: give no spec")
    checked = spec if spec is not None else parse_spec(source)  # raises SpecError before any Pulumi machinery starts
    from infra.program import main

    recorded: dict[str, PlannedResource] = {}
    mocks = _Mocks(recorded)
    psettings.ROOT.set(None)
    logging.getLogger("pulumi").setLevel(logging.ERROR)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=_Monitor(mocks),
                             logger=logging.getLogger("launchready.mock"))
    # Secret inputs the stack file does not set yet get the placeholder, marked secret (plan and gate
    # name them): the program runs without any secret value.
    set_all_config(*mock_config(source, checked))
    outputs: dict[str, Any] = {}

    def program():
        exports = run_as_engine() if as_engine else main(spec).exports
        return _resolve_exports(exports, outputs)

    psettings.SETTINGS.rpc_manager.clear()
    psettings.SETTINGS.outputs.clear()
    with _gc_paused():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
    # Registration order depends on how the event loop interleaves the program's coroutines and
    # differs from run to run; URN order does not, so the plan, the gate and their reports are stable.
    return PlanRun(stack, sorted(recorded.values(), key=lambda r: r.urn), outputs)


def _resolve_exports(exports: dict[str, Any], into: dict[str, Any]) -> pulumi.Output:
    """Fill `into` with the stack outputs' values, in export order, once every Output among them resolves.

    Only exports holding an Output go through Output.all: it turns every dict, list, key and value it
    walks into an Output of its own, and the launch contract is plain data with a dict per planned
    record (200,000 Outputs, about 100 MB, at 10,000 tenant records) that needs no resolving."""
    waiting = {k: v for k, v in exports.items() if not _plain(v)}

    def done(resolved: dict[str, Any]) -> None:
        into.update({k: resolved[k] if k in waiting else v for k, v in exports.items()})
    return pulumi.Output.all(**waiting).apply(done) if waiting else pulumi.Output.from_input(done({}))


def _plain(value: Any) -> bool:
    """Plain data (dicts with string keys, lists, scalars): nothing for Output.from_input to unwrap or
    convert (a tuple would become a list, so it is not plain)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if type(value) is list:
        return all(_plain(v) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


@contextlib.contextmanager
def _gc_paused():
    """The cyclic GC off for a run, and the run's objects kept out of later collections.

    The runtime allocates millions of short-lived futures, tasks and callbacks (about 470 objects per
    resource); with the GC on, each collection walks the whole growing heap and the run turns
    superlinear (2x slower at 2,000 resources). Merely re-enabling it afterwards is not free: every
    object the run allocated is still in generation 0, so the first allocation after gc.enable()
    walks all of them (7.7 s of a 37 s plan at 10,000 tenants). gc.freeze() moves them to the
    permanent generation instead, in constant time: a one-shot CLI never pays for them. A process
    that runs the program again (the tests) collects the previous run's frozen objects at the start of
    the next run, as it did before at the end of each run."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
