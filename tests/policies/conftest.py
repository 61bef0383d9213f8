"""Helpers for the policy tests: build resources as the engine presents them and judge them."""
from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from policies.engine import Presented, run_rules
from policies.rules import BY_NAME

ZONE = "0" * 32


def resource(type_: str, resource_name: str, /, secret_paths=(), dependencies=(), **props: Any) -> Presented:
    """A resource with these inputs (engine property names); `name=` is the property, not the resource name."""
    return Presented(type=type_, name=resource_name, urn=f"urn:pulumi:test::launchready::{type_}::{resource_name}",
                     inputs=props, outputs=None, secret_paths=frozenset(secret_paths),
                     dependencies=list(dependencies))


def judge(rule_names, resources, config: Optional[dict] = None) -> list[tuple[str, str, str]]:
    """(rule, level, message) of every violation the named rules report, run as the engine runs them."""
    if isinstance(rule_names, str):
        rule_names = [rule_names]
    rules = [BY_NAME[n] for n in rule_names]
    return [(d.policy, d.level.value, d.message) for d in run_rules(rules, list(resources), config)]


def messages(rule_name, resources, config=None) -> list[str]:
    return [m for _, _, m in judge(rule_name, resources, config)]


@pytest.fixture
def stack_config():
    """Set the stack config the engine hands the pack (PULUMI_CONFIG); restored afterwards."""
    from pulumi.runtime import config as rc

    saved = dict(rc.CONFIG.get())

    def set_(values: dict[str, Any]):
        rc.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}, [])
    yield set_
    rc.set_all_config(saved, [])
