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
    from worldkit.faultvariants import FAULT_VARIANTS
    from worldkit.realworld import REALWORLD, REALWORLD_ZONES
    from worldkit.world import VARIANTS, Variant, build_world

    # One knotd for the variants, the real-world cases (test_verify_unseen.py) and the zones
    # broken beyond one FAIL (faultvariants.py).
    faults = tuple(Variant(*v) for v in FAULT_VARIANTS)
    w = build_world(tmp_path_factory.mktemp("knot-world"), variants=(*VARIANTS, *REALWORLD, *faults),
                    stacks_dir=REPO / "stacks", extra_zones=REALWORLD_ZONES)
    yield w
    w.stop()


# The local HTTPS web world (tests/worldkit/web.py): one private nginx per variant, started on first
# `web_world.server(name)`, in front of one shared upstream app. Aim verify at a server with
# `srv.verify_args()` (--connect-to pins + --ca-file) or `audit(..., connect_to=srv.pins(), ca_file=srv.ca_file)`.
from worldkit.portal import portal_world  # noqa: E402, F401  (a session fixture: the reference client portal)
from worldkit.portalmail import portal_mail_world  # noqa: E402, F401  (the same portal with reset, invite and mail)
from worldkit.web import web_world  # noqa: E402, F401  (a session fixture)
from worldkit.webcache import cache_world  # noqa: E402, F401  (a session fixture: the portal behind a caching edge)
