"""The mail plan is derived once per Spec (Spec.mail_plan), however many readers ask for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from infra.contract import build_contract
from infra.spec import load_stack, planned_records
from infra.spec.mailspec import Dmarc
from verify.expectations import mail_from_spec

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_every_reader_of_the_example_shares_one_plan(builds):
    spec = load_stack("example", ROOT / "stacks")
    assert spec.mail is not None
    assert builds["n"] == 1  # validation (the mail and records cross-checks) derived it
    planned_records(spec)
    build_contract(spec)
    mail_from_spec(spec, {})
    spec.mail.records(spec)
    spec.mail.problems(spec)
    assert spec.mail.plan(spec) is spec.mail_plan
    assert builds["n"] == 1


def test_each_spec_derives_its_own(builds):
    first = load_stack("example", ROOT / "stacks")
    second = load_stack("example", ROOT / "stacks")
    assert builds["n"] == 2
    assert first.mail_plan is not second.mail_plan
    assert first.mail_plan.records == second.mail_plan.records


def test_the_cache_stays_out_of_the_model(builds):
    spec = load_stack("example", ROOT / "stacks")
    assert "mail_plan" not in spec.model_dump()
    assert "mail_plan" not in type(spec).model_fields
    assert spec == load_stack("example", ROOT / "stacks")


def test_a_copy_with_changes_derives_a_fresh_plan(builds):
    spec = load_stack("example", ROOT / "stacks")
    changed = spec.model_copy(update={"mail": spec.mail.model_copy(update={"dmarc": Dmarc(policy="quarantine")})})
    dmarc = [r.content for r in changed.mail_plan.records if r.name == f"_dmarc.{spec.domain}"]
    assert dmarc and "p=quarantine" in dmarc[0]
    assert builds["n"] == 2


def test_readers_get_lists_of_their_own(builds):
    spec = load_stack("example", ROOT / "stacks")
    spec.mail.records(spec).clear()
    planned_records(spec).clear()
    assert spec.mail_plan.records and planned_records(spec)
