"""The Pulumi engine's own config rules, applied without the CLI to Pulumi.yaml and every stack in stacks/.

pkg/workspace/config.go (mergeConfig): a key of the project's namespace declared in Pulumi.yaml
without `default` or `value` is required in every stack ("Stack 'x' is missing configuration value
'...'"); a stack value of an explicitly typed key must be of that type (ValidateConfigValue: string,
integer, boolean, array with `items`). Schemas (`type`, `default`) are only valid for the project's
own keys. Mocks never apply these rules: a violation would stop `pulumi preview` on day one.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def _valid(type_name: str, items: dict | None, value) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.lstrip("-").isdigit())
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "array":
        return isinstance(value, list) and all(_valid(items["type"], items.get("items"), v) for v in value)
    return False


def engine_config_problems(project: dict, stack_name: str, stack_config: dict) -> list[str]:
    """What mergeConfig would refuse, in its own words."""
    name = project["name"]
    problems, missing = [], []
    for key, decl in sorted((project.get("config") or {}).items()):
        full = key if ":" in key else f"{name}:{key}"
        namespace = full.split(":", 1)[0]
        if namespace != name and ("type" in decl or "default" in decl):
            problems.append(f"Configuration key '{key}' is not namespaced by the project and should not define a type")
            continue
        has_default = "default" in decl or "value" in decl
        if full not in stack_config:
            if not has_default and namespace == name:
                missing.append(full)
            elif "default" in decl and "type" in decl and not _valid(decl["type"], decl.get("items"), decl["default"]):
                problems.append(f"default of '{key}' is not of type '{decl['type']}'")
            continue
        value = stack_config[full]
        if "type" in decl and not (isinstance(value, dict) and "secure" in value):
            if not _valid(decl["type"], decl.get("items"), value):
                problems.append(f"Stack '{stack_name}' with configuration key '{key}' must be of type '{decl['type']}'")
    if missing:
        problems.append(f"Stack '{stack_name}' is missing configuration value(s) {', '.join(missing)}")
    return problems


def _stack(path: Path) -> tuple[str, dict]:
    name = path.name[len("Pulumi."):-len(".yaml")]
    return name, yaml.safe_load(path.read_text()).get("config") or {}


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_every_stack_passes_the_engines_config_rules(path):
    name, config = _stack(path)
    assert engine_config_problems(PROJECT, name, config) == []


def test_a_stack_may_leave_out_every_key_that_has_a_default():
    """Only the domain is required; caa, environment, canonicalHost and dnssec have defaults, as the
    spec does (docs/stack-spec.md)."""
    name, config = _stack(ROOT / "stacks" / "Pulumi.example.yaml")
    optional = {k for k, d in PROJECT["config"].items() if "default" in d}
    assert "launchready:caa" in optional
    trimmed = {k: v for k, v in config.items() if k not in optional}
    assert engine_config_problems(PROJECT, name, trimmed) == []
    assert engine_config_problems(PROJECT, name, {k: v for k, v in trimmed.items() if k != "launchready:domain"}) == [
        "Stack 'example' is missing configuration value(s) launchready:domain"]


def test_the_checker_refuses_what_the_engine_refuses():
    project = {"name": "launchready", "config": {
        "launchready:caa": {"type": "array", "items": {"type": "string"}},
        "launchready:dnssec": {"type": "boolean", "default": True},
        "aws:region": {"type": "string", "default": "eu-west-1"}}}
    problems = engine_config_problems(project, "prod", {"launchready:dnssec": "yes"})
    assert "Stack 'prod' with configuration key 'launchready:dnssec' must be of type 'boolean'" in problems
    assert "Stack 'prod' is missing configuration value(s) launchready:caa" in problems
    assert any("aws:region" in p and "not namespaced" in p for p in problems)
    del project["config"]["aws:region"]
    assert engine_config_problems(project, "prod", {"launchready:caa": [1], "launchready:dnssec": "true"}) == [
        "Stack 'prod' with configuration key 'launchready:caa' must be of type 'array'"]


def test_spec_defaults_agree_with_pulumi_yaml_defaults():
    """Pulumi.yaml's defaults are the spec's: a key left out means the same thing to the engine and to plan."""
    from infra.spec import Spec

    fields = {(f.alias or n): f for n, f in Spec.model_fields.items()}
    for key, decl in PROJECT["config"].items():
        if "default" not in decl:
            continue
        spec_default = fields[key.split(":", 1)[1]].get_default(call_default_factory=True)
        assert json.loads(json.dumps(spec_default)) == decl["default"], key
