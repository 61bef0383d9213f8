"""The catalogue is auditable: every rule complete, ids stable kebab-case, docs in sync with the code."""
from __future__ import annotations

import re

import pytest

from policies import catalogue
from policies.rules import ALL, MODULES
from policies.scan import GATE_CHECKS

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("rule", list(ALL) + list(GATE_CHECKS), ids=lambda r: r.name)
def test_rule_metadata_is_complete(rule):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
    assert rule.description.endswith((".", ")")) and len(rule.description) > 30
    assert rule.remediation_steps and len(rule.remediation_steps) > 60
    assert rule.severity is not None and rule.enforcement_level is not None
    assert rule.area in ("edge", "dns", "mail", "secrets", "monitoring", "apply", "repository")
    schema = rule.config_schema
    for key, prop in (schema.properties.items() if schema else []):
        assert "default" in prop and "description" in prop and "type" in prop, key


def test_module_names_never_shadow_stdlib_or_dnspython():
    names = {m.__name__.rsplit(".", 1)[-1] for m in MODULES}
    assert not names & {"dns", "ssl", "email", "secrets"}


def test_docs_catalogue_is_generated_from_the_registry():
    assert catalogue.main(["--check"]) == 0, "run: python -m policies.catalogue --write"


def test_pack_entry_point_only_builds_the_pack():
    from pathlib import Path

    text = (Path(catalogue.__file__).parent / "__main__.py").read_text()
    assert "PolicyPack(" in text and "def " not in text
