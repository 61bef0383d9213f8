"""Behaviour the real engine has and the default mocks hide."""
from __future__ import annotations

from pathlib import Path

import pytest

from infra import mockrun
from infra.spec import read_stack_file

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
GET_ZONE = "cloudflare:index/getZone:getZone"


def test_zone_found_by_name_uses_the_computed_id_when_zone_id_is_not_echoed(monkeypatch):
    # The provider fills the data source's `id`; `zoneId` is an optional lookup input it need not echo.
    real = mockrun.FAKE_INVOKES[GET_ZONE]
    monkeypatch.setitem(mockrun.FAKE_INVOKES, GET_ZONE, lambda a: {**real(a), "zoneId": None, "id": "f" * 32})
    run = mockrun.run_program(read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml"), stack="example")
    zone_ids = {r.inputs.get("zoneId") for r in run.custom() if "zoneId" in r.inputs}
    assert zone_ids == {"f" * 32}
    assert run.outputs["zoneId"] == "f" * 32


@pytest.mark.parametrize("room", ["infra", "policies"])
def test_no_top_level_name_in_a_room_shadows_a_library(room):
    # The engine runs infra/ (and the policy pack runs policies/) with runpy and that folder first on
    # sys.path (DESIGN.md): any file or package there is importable under its bare name and would
    # shadow the standard library or an installed distribution of the same name.
    import importlib.metadata
    import sys

    installed = set(importlib.metadata.packages_distributions()) | set(sys.stdlib_module_names)
    names = {p.stem if p.is_file() else p.name for p in (ROOT / room).iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())) and p.stem != "__init__"}
    names.discard("__main__")
    assert names and not names & installed, sorted(names & installed)
ENGINE_RUN = """
import json, sys
from infra.mockrun import run_program
from infra.spec import read_stack_file
run = run_program(read_stack_file(sys.argv[1]), stack="example", as_engine=True)
print(json.dumps({"types": sorted(r.type for r in run.custom()), "outputs": sorted(run.outputs),
                  "domain": run.outputs["launchContract"]["domain"]}))
"""


def test_infra_main_runs_as_the_engine_runs_it():
    # A fresh interpreter: the providers are imported for the first time while infra/ is first on
    # sys.path, as under `pulumi up`, so a module in infra/ that shadows one they need would break it.
    import json
    import subprocess
    import sys

    stack = ROOT / "stacks" / "Pulumi.example.yaml"
    proc = subprocess.run([sys.executable, "-c", ENGINE_RUN, str(stack)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = mockrun.run_program(read_stack_file(stack), stack="example")
    assert got["types"] == sorted(r.type for r in expected.custom())
    assert got["outputs"] == sorted(expected.outputs) and got["domain"] == "example.com"


def test_infra_main_turns_a_spec_error_into_a_run_error(monkeypatch):
    # Under the engine a malformed spec must read as the list of problems, not a Python traceback:
    # pulumi.RunError is shown without one.
    import pulumi

    from infra.spec import ConfigSource

    source = ConfigSource({"launchready:domain": "example.com", "launchready:hosts": '[{"name": "app..example.com", "origin": "203.0.113.1"}]'})
    monkeypatch.setattr(mockrun, "parse_spec", lambda s: None)  # skip the CLI's own pre-check
    with pytest.raises(pulumi.RunError) as info:
        mockrun.run_program(source, stack="bad", as_engine=True)
    assert "hosts[0].name: 'app..example.com' is not a valid hostname" in str(info.value)
