"""The program can be given a spec its caller already built, instead of building it again from the
config (infra.program.main(spec), infra.mockrun.run_program(..., spec=spec))."""
from __future__ import annotations

from pathlib import Path

import pytest

from infra.mockrun import run_program
from infra.spec import parse_spec, read_stack_file

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
RECORD = "cloudflare:index/dnsRecord:DnsRecord"


def test_a_given_spec_declares_what_the_config_would(example_run):
    source = read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml")
    run = run_program(source, stack="example", spec=parse_spec(source))
    assert {r.urn: r.inputs for r in run.resources} == {r.urn: r.inputs for r in example_run.resources}
    assert run.outputs == example_run.outputs


def test_the_given_spec_is_the_one_declared():
    source = read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml")
    spec = parse_spec(source)
    # Not what the config says: only the given spec can have put this CAA record there.
    run = run_program(source, stack="example", spec=spec.model_copy(update={"caa": ["sectigo.com"]}))
    caa = sorted(r.inputs["data"]["value"] for r in run.of_type(RECORD) if r.inputs["type"] == "CAA")
    assert caa == [";", "sectigo.com"]


def test_one_mail_plan_for_a_whole_run(builds):
    source = read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml")
    run_program(source, stack="example", spec=parse_spec(source))
    assert builds["n"] == 1  # records, MailAuth and the contract share the spec's plan


def test_the_engine_path_takes_no_spec():
    source = read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml")
    with pytest.raises(ValueError, match="as_engine"):
        run_program(source, stack="example", as_engine=True, spec=parse_spec(source))
