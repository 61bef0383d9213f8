"""Helpers for the policy tests: build resources as the engine presents them and judge them."""
from __future__ import annotations

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
def stack_spec():
    """Give the rules a typed stack spec (policies.context.use_spec) for the test, from spec sections
    keyed as in a stack file ({"launchready:hosts": [...]}). Each section is validated on its own;
    sections left out keep their defaults (the domain defaults to example.com), and the cross-section
    checks are skipped, so a test declares only what its rule reads."""
    from contextlib import ExitStack
    from typing import Annotated

    from pydantic import TypeAdapter

    from infra.spec import Spec
    from policies.context import use_spec

    fields = {(f.alias or n): (n, f) for n, f in Spec.model_fields.items()}
    stack = ExitStack()

    def set_(values: dict[str, Any]) -> Spec:
        typed: dict[str, Any] = {"domain": "example.com"}
        for key, value in values.items():
            name, fld = fields[key.split(":", 1)[1]]
            annotation = Annotated[(fld.annotation, *fld.metadata)] if fld.metadata else fld.annotation
            typed[name] = TypeAdapter(annotation).validate_python(value)
        spec = Spec.model_construct(**typed)
        stack.enter_context(use_spec(spec))
        return spec
    with stack:
        yield set_
