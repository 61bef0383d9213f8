"""Rules judge against the typed spec (policies.context), never against raw config they decode."""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from infra.spec import Spec, parse_spec, read_stack_file
from policies import context
from policies.context import current_spec, environment, use_spec
from policies.props import RULESET

from .conftest import ZONE, messages, resource

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"


@pytest.fixture
def runtime_config():
    """Set the Pulumi runtime config (what the engine hands the pack), restored afterwards."""
    from pulumi.runtime import config as rc

    saved = dict(rc.CONFIG.get())
    saved_secret = [k for k in saved if rc.is_config_secret(k)]

    def set_(values: dict[str, str], secret_keys=()):
        rc.set_all_config(dict(values), list(secret_keys))
    yield set_
    rc.set_all_config(saved, saved_secret)


def _no_rate_limits():
    return [resource(RULESET, "rl", zoneId=ZONE, kind="zone", phase="http_ratelimit", name="rl", rules=[])]


def test_use_spec_gives_the_rules_the_typed_model(runtime_config):
    source = read_stack_file(EXAMPLE)
    spec = parse_spec(source)
    # The runtime config says something else: the spec given explicitly wins.
    runtime_config({"launchready:domain": "other.example"})
    seen = []
    with use_spec(spec):
        seen.append(current_spec())
        found = messages("auth-rate-limited", _no_rate_limits())
    assert seen == [spec] and isinstance(seen[0], Spec)
    login = next(f"{h.name}{p}" for h in spec.hosts for flow, p in h.flows.items() if flow == "login")
    assert any(m.startswith(f"{login} has no rate limit") for m in found)
    assert current_spec() is not spec


def test_use_spec_nests_and_restores():
    outer = parse_spec(read_stack_file(EXAMPLE))
    inner = outer.model_copy(update={"environment": "staging"})
    with use_spec(outer):
        with use_spec(inner):
            assert current_spec() is inner and environment() == "staging"
        assert current_spec() is outer and environment() == "production"


def test_without_use_spec_the_spec_is_built_once_from_the_runtime_config(runtime_config, monkeypatch):
    import infra.spec

    source = read_stack_file(EXAMPLE)
    calls = []
    real = infra.spec.parse_spec
    monkeypatch.setattr(infra.spec, "parse_spec", lambda s: calls.append(1) or real(s))
    runtime_config(source.values, sorted(source.secret_keys))
    first = current_spec()
    assert isinstance(first, Spec) and first == parse_spec(source)
    assert current_spec() is first and environment() == "production" and len(calls) == 1

    staging = {**source.values, "launchready:environment": "staging"}
    runtime_config(staging, sorted(source.secret_keys))
    assert environment() == "staging" and len(calls) == 2


def test_without_a_valid_spec_rules_behave_as_without_stack_config(runtime_config):
    runtime_config({"launchready:hosts": json.dumps([{"name": "app.example.com", "origin": "203.0.113.20",
                                                       "flows": {"login": "/login"}}])})
    assert current_spec() is None and environment() == "production"
    assert messages("auth-rate-limited", _no_rate_limits()) == []
    runtime_config({})
    assert current_spec() is None


def test_the_pack_never_reads_or_decodes_raw_config():
    # Statically: no module of the pack reads the engine's config itself ...
    pack = [p for p in (ROOT / "policies").rglob("*.py") if p.name not in ("gate.py", "scan.py", "reposcan.py")]
    readers = []
    for path in pack:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi.runtime.config"):
                readers.append(str(path.relative_to(ROOT)))
            # (`args.get_config()` is the policy's own config, which is fine.)
            if isinstance(node, ast.Attribute) and node.attr in ("CONFIG", "get_config_env", "stack_config"):
                readers.append(str(path.relative_to(ROOT)))
            if isinstance(node, ast.Name) and node.id in ("get_config", "stack_config"):
                readers.append(str(path.relative_to(ROOT)))
    assert not readers, f"policies modules read raw config: {sorted(set(readers))}"


def test_no_rule_json_decodes_a_config_value(runtime_config, monkeypatch):
    # ... and at run time, every rule over the example stack (spec built from the runtime config, as
    # under the engine) decodes no config value: only the spec's loader does.
    from infra.mockrun import run_program
    from policies.engine import Presented, run_rules
    from policies.rules import ALL

    source = read_stack_file(EXAMPLE)
    run = run_program(source, stack="example")
    raw = set(source.values.values())
    decoded_by = []
    real_loads = json.loads

    def spy(text, *args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if text in raw and caller.startswith("policies"):
            decoded_by.append(caller)
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    monkeypatch.setattr(context, "_BUILT", None)
    presented = [Presented(type=r.type, name=r.name, urn=r.urn, inputs=r.inputs, outputs=r.outputs or r.inputs,
                           parent=r.parent or "", secret_paths=frozenset(r.secret_paths)) for r in run.resources]
    run_rules(ALL, presented)
    assert isinstance(current_spec(), Spec)
    assert not decoded_by, f"policies modules json-decode config values: {sorted(set(decoded_by))}"
