"""zone.adopt: which existing rulesets and records a stack imports, and every way to get it wrong."""
from __future__ import annotations

import pytest
from stackfiles import problems, stack_with

from infra.spec import load_stack, planned_records
from infra.spec.adoptspec import adopted_records, adopted_rulesets

pytestmark = pytest.mark.unit

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ACCOUNT = "0123456789abcdef0123456789abcdef"
REDIRECTS = "2f2feab2026849078ba485f918791bdc"
RATELIMIT = "4814384a9e5d4991b9815dcfc25d2f1f"
RECORD = "372e67954025e0ba6aaa6d586b9e0b59"


def adopting(**adopt):
    def edit(config):
        config["launchready:zone"] = {"id": ZONE_ID, "accountId": ACCOUNT, "adopt": adopt}
    return edit


def test_adopted_rulesets_and_records_get_the_providers_import_ids(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, adopting(
        rulesets={"http_request_dynamic_redirect": REDIRECTS, "http_ratelimit": RATELIMIT},
        records={"app.example.com A": RECORD}))))
    assert adopted_rulesets(spec.zone) == {
        "http_request_dynamic_redirect": f"zones/{ZONE_ID}/{REDIRECTS}",
        "http_ratelimit": f"zones/{ZONE_ID}/{RATELIMIT}",
    }
    (app,) = [r for r in planned_records(spec) if r.name == "app.example.com" and r.type == "A"]
    assert adopted_records(spec.zone, planned_records(spec)) == {app.key: f"{ZONE_ID}/{RECORD}"}


def test_no_adopt_section_adopts_nothing(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, lambda c: None)))
    assert not spec.zone.adopt
    assert adopted_rulesets(spec.zone) == {} and adopted_records(spec.zone, planned_records(spec)) == {}


def test_content_picks_one_of_several_records_at_a_name_and_type(tmp_path):
    key = 'example.com CAA 0 issue "letsencrypt.org"'
    spec = load_stack(str(stack_with(tmp_path, adopting(records={key: RECORD}))))
    (key_of_record,) = adopted_records(spec.zone, planned_records(spec))
    assert key_of_record.startswith("caa-example.com-")


CASES = {
    "ruleset id not 32 hex": (
        adopting(rulesets={"http_ratelimit": "4814384A9E5D4991B9815DCFC25D2F1F"}),
        "zone.adopt.rulesets.http_ratelimit: '4814384A9E5D4991B9815DCFC25D2F1F' is not a Cloudflare id (32 lowercase hex characters)"),
    "record id too short": (
        adopting(records={"app.example.com A": "372ab795"}),
        "zone.adopt.records.app.example.com A: '372ab795' is not a Cloudflare id (32 lowercase hex characters)"),
    "unknown phase": (
        adopting(rulesets={"http_request_firewall_custom": RATELIMIT}),
        "zone.adopt.rulesets.http_request_firewall_custom: unknown key (expected one of: 'http_request_dynamic_redirect',"
        " 'http_request_firewall_managed', 'http_ratelimit', 'http_request_cache_settings' or 'http_response_headers_transform')"),
    "record not planned": (
        adopting(records={"old.example.com A": RECORD}),
        "zone.adopt.records.old.example.com A: 'old.example.com A' names no record this stack publishes"),
    "record of another type": (
        adopting(records={"app.example.com AAAA": RECORD}),
        "zone.adopt.records.app.example.com AAAA: 'app.example.com AAAA' names no record this stack publishes"),
    "record key without a type": (
        adopting(records={"app.example.com": RECORD}),
        "zone.adopt.records.app.example.com: 'app.example.com' is not 'name TYPE' (e.g. 'app.example.com A')"),
    "record key naming several": (
        adopting(records={"example.com CAA": RECORD}),
        "zone.adopt.records.example.com CAA: 'example.com CAA' names 3 records ('0 issue \"letsencrypt.org\"',"
        " '0 issue \"pki.goog\"', '0 issuewild \";\"'): add the content, e.g. 'example.com CAA 0 issue \"letsencrypt.org\"'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_adopt_entries(tmp_path, case):
    edit, expected = CASES[case]
    assert problems(stack_with(tmp_path, edit)) == [expected]


def test_adoption_needs_the_zone_id(tmp_path):
    def edit(config):
        config["launchready:zone"]["adopt"] = {"rulesets": {"http_ratelimit": RATELIMIT}}
    assert problems(stack_with(tmp_path, edit)) == [
        "zone.adopt: adopting needs the zone's id (zone.id): the import ids contain it, and a zone looked up by name "
        "has no id until deploy time (find it on the zone's Overview page in the dashboard, or GET "
        "/client/v4/zones?name=<domain>)"]


def test_a_created_zone_has_nothing_to_adopt(tmp_path):
    def edit(config):
        config["launchready:zone"] = {"create": True, "accountId": ACCOUNT,
                                      "adopt": {"records": {"app.example.com A": RECORD}}}
    assert problems(stack_with(tmp_path, edit)) == [
        "zone.adopt: a zone this stack creates has nothing to adopt: remove adopt, or use the existing zone's id"]


def test_a_phase_without_rules_cannot_be_adopted(tmp_path):
    def edit(config):
        adopting(rulesets={"http_ratelimit": RATELIMIT})(config)
        config.pop("launchready:rateLimits", None)
    assert problems(stack_with(tmp_path, edit)) == [
        "zone.adopt.rulesets.http_ratelimit: this stack declares no http_ratelimit ruleset (no rateLimits are "
        "declared): nothing would adopt it"]
