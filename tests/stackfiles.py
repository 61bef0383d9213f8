"""Helpers the spec and infra tests share: the example stack, edited copies of it, spec errors."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra.spec import SpecError, load_stack

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FILE = ROOT / "stacks" / "Pulumi.example.yaml"
EXAMPLE = yaml.safe_load(EXAMPLE_FILE.read_text())


def stack_with(tmp_path: Path, edit, name: str = "Pulumi.variant.yaml") -> Path:
    """A copy of the example stack with `edit(config)` applied, written under tmp_path."""
    doc = copy.deepcopy(EXAMPLE)
    edit(doc["config"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def spec_error(path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    return info.value


def problems(path) -> list[str]:
    """'key.path: message' for every problem the spec reports in the file."""
    return [f"{i.path}: {i.message}" for i in spec_error(path).issues]
