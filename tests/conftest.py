"""Shared pytest setup: the hermetic guard (tests/hermetic.py) for this process and every Python
subprocess the tests start; a test fails when it, or a child, tried to leave 127.0.0.0/8 or used the
system resolver, even if the code under test swallowed the error."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hermetic
import pytest
from hermetic import HermeticViolation  # noqa: F401 - re-exported for tests that prove the guard

_SITE = Path(__file__).resolve().parent / "hermetic_site"
_LOG = {"path": None, "seen": 0}


def pytest_configure(config):
    hermetic.install()
    # No AWS account reaches a test: not the developer's profile or keys, not the instance metadata
    # service. A test that wants AWS points at moto on 127.0.0.1 (tests/worldkit/awsworld.py).
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                       "AWS_EC2_METADATA_DISABLED": "true"})
    fd, path = tempfile.mkstemp(prefix="launchready-hermetic-", suffix=".log")
    os.close(fd)
    _LOG["path"] = path
    os.environ[hermetic.LOG_ENV] = path
    # Children import sitecustomize from here, which installs the same guard before any test code.
    tests_dir = str(Path(__file__).resolve().parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_SITE), tests_dir, os.environ.get("PYTHONPATH", "")) if p)


def pytest_unconfigure(config):
    if _LOG["path"]:
        Path(_LOG["path"]).unlink(missing_ok=True)


def _child_violations() -> list[str]:
    lines = Path(_LOG["path"]).read_text(encoding="utf-8").splitlines()
    own = str(os.getpid())
    return [line for line in lines if not line.endswith(f"(pid {own})")]


@pytest.fixture
def hermetic_violations():
    """The list of violations recorded so far; a test proving the guard may clear it."""
    return hermetic.violations()


@pytest.fixture
def hermetic_child_log() -> Path:
    """The file children record violations in; a test proving the guard may remove its own lines."""
    return Path(_LOG["path"])


@pytest.fixture(autouse=True)
def _hermetic_guard():
    recorded = hermetic.violations()
    before = len(recorded)
    children_before = len(_child_violations())
    yield
    new = recorded[before:]
    children = _child_violations()[children_before:]
    if new:
        del recorded[before:]
    if new or children:
        pytest.fail("; ".join(new + children), pytrace=False)


@pytest.fixture
def builds(monkeypatch):
    """How many times a mail plan was derived during the test (MailPlan.build calls)."""
    from infra.spec.mailplan import MailPlan

    count = {"n": 0}
    original = MailPlan.build.__func__

    def counting(cls, mail, spec):
        count["n"] += 1
        return original(cls, mail, spec)

    monkeypatch.setattr(MailPlan, "build", classmethod(counting))
    return count
