"""zone.adopt under Pulumi's mocks: the program passes `import_` with the provider's import id, and
the plan says what it adopts."""
from __future__ import annotations

import copy
import io
import json

import pytest
import yaml
from rich.console import Console
from stackfiles import EXAMPLE, stack_with

from infra.edgerules import PHASES
from infra.mockrun import run_program
from infra.planview import render_console, render_json
from infra.spec import load_stack, read_stack_file
from infra.spec.adoptspec import EntryPointPhase, phases_without_rules

pytestmark = pytest.mark.unit

RULESET = "cloudflare:index/ruleset:Ruleset"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
REDIRECTS = "2f2feab2026849078ba485f918791bdc"
HEADERS = "4814384a9e5d4991b9815dcfc25d2f1f"
APP_A = "372e67954025e0ba6aaa6d586b9e0b59"


def _adopt(config):
    config["launchready:zone"] = {
        "id": ZONE_ID, "accountId": "0123456789abcdef0123456789abcdef",
        "adopt": {"rulesets": {"http_request_dynamic_redirect": REDIRECTS, "http_response_headers_transform": HEADERS},
                  "records": {"app.example.com A": APP_A}},
    }


@pytest.fixture(scope="module")
def adopt_run(tmp_path_factory):
    # A module-scoped run: run_with is per test, and one mock run takes seconds.
    doc = copy.deepcopy(EXAMPLE)
    _adopt(doc["config"])
    path = tmp_path_factory.mktemp("adopt") / "Pulumi.adopt.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return run_program(read_stack_file(path), stack="adopt")


def test_the_spec_knows_the_phases_the_program_declares():
    assert set(EntryPointPhase.__args__) == set(PHASES)


def test_phases_without_rules_agree_with_the_rule_builders(tmp_path):
    def bare(config):
        config["launchready:waf"] = {"enabled": False}
        config.pop("launchready:rateLimits", None)
    for edit in (lambda c: None, bare):
        spec = load_stack(str(stack_with(tmp_path, edit)))
        assert set(phases_without_rules(spec)) == {p for p, (_, build) in PHASES.items() if not build(spec)}


def test_adopted_rulesets_are_imported_by_zones_zone_id_ruleset_id(adopt_run):
    imports = {r.inputs["phase"]: r.import_id for r in adopt_run.of_type(RULESET)}
    assert imports == {
        "http_request_dynamic_redirect": f"zones/{ZONE_ID}/{REDIRECTS}",
        "http_request_firewall_managed": "",
        "http_ratelimit": "",
        "http_request_cache_settings": "",
        "http_response_headers_transform": f"zones/{ZONE_ID}/{HEADERS}",
    }


def test_an_adopted_record_is_imported_by_zone_id_record_id(adopt_run):
    imported = {(r.inputs["name"], r.inputs["type"]): r.import_id for r in adopt_run.of_type(RECORD) if r.import_id}
    assert imported == {("app.example.com", "A"): f"{ZONE_ID}/{APP_A}"}


def test_nothing_is_imported_without_adopt(example_run):
    assert [r.name for r in example_run.custom() if r.import_id] == []


def test_console_plan_lists_each_adoption(adopt_run):
    buffer = io.StringIO()
    render_console(adopt_run, Console(file=buffer, width=240))
    text = buffer.getvalue()
    assert f"adopts existing ruleset {REDIRECTS} (http_request_dynamic_redirect)" in text
    assert f"adopts existing ruleset {HEADERS} (http_response_headers_transform)" in text
    assert f"adopts existing DNS record {APP_A} (A app.example.com)" in text
    n = len(adopt_run.custom())
    assert f"{n - 3} resources to create and 3 to adopt" in text


def test_json_plan_lists_each_adoption(adopt_run):
    doc = json.loads(render_json(adopt_run))
    assert sorted((a["type"], a["importId"], a["message"]) for a in doc["adopts"]) == [
        (RECORD, f"{ZONE_ID}/{APP_A}", f"adopts existing DNS record {APP_A} (A app.example.com)"),
        (RULESET, f"zones/{ZONE_ID}/{REDIRECTS}", f"adopts existing ruleset {REDIRECTS} (http_request_dynamic_redirect)"),
        (RULESET, f"zones/{ZONE_ID}/{HEADERS}", f"adopts existing ruleset {HEADERS} (http_response_headers_transform)"),
    ]
    with_ids = [r for c in doc["components"] for r in c["resources"] if "importId" in r]
    assert len(with_ids) == 3


def test_plan_without_adoption_says_nothing_of_it(example_run):
    buffer = io.StringIO()
    render_console(example_run, Console(file=buffer, width=240))
    assert "adopt" not in buffer.getvalue()
    assert json.loads(render_json(example_run))["adopts"] == []
