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


def test_infra_has_no_module_that_shadows_the_standard_library_or_dnspython():
    # The engine runs infra/ with runpy and infra/ first on sys.path (DESIGN.md).
    shadowing = {"dns", "email", "secrets", "ssl", "json", "logging", "typing", "random", "string", "types"}
    names = {p.stem if p.is_file() else p.name for p in (ROOT / "infra").rglob("*")
             if (p.suffix == ".py" or p.is_dir()) and p.name != "__pycache__"}
    assert not names & shadowing, names & shadowing
