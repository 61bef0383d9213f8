from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra.mockrun import PlanRun, run_program
from infra.spec import read_stack_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def example_run() -> PlanRun:
    return run_program(read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml"), stack="example")


@pytest.fixture
def run_with(tmp_path):
    """Run the program on the example stack with an edit applied to its config."""
    def run(edit) -> PlanRun:
        doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.example.yaml").read_text())
        doc = copy.deepcopy(doc)
        edit(doc["config"])
        path = tmp_path / "Pulumi.variant.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return run_program(read_stack_file(path), stack="variant")
    return run
