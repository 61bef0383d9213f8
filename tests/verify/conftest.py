"""World fixtures for verify: one knotd serving the example zone, third-party zones and every variant."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    if not (shutil.which("knotd") or Path("/usr/sbin/knotd").exists()):
        pytest.fail("knotd not installed (Debian package 'knot'); .ci/run installs it")
    from verify.testing.world import build_world

    w = build_world(tmp_path_factory.mktemp("knot-world"), stacks_dir=REPO / "stacks")
    yield w
    w.stop()
