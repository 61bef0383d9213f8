"""What a user installs: the wheel built from this repository, in a fresh virtualenv with only the
runtime dependencies (no test extra), run from outside the repository. Every command must work.

The dependencies come from a local wheelhouse that .ci/run fills before the tests (`pip wheel`), so
the test itself installs with --no-index and stays hermetic. Without a wheelhouse the test is
skipped on a developer machine and fails under CI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.world

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("LAUNCHREADY_WHEELHOUSE", ROOT / ".wheelhouse"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not any(WHEELHOUSE.glob("pulumi-*.whl")):
        if os.environ.get("CI"):
            pytest.fail(f"no wheelhouse at {WHEELHOUSE}: .ci/run must fill it (pip wheel -w .wheelhouse .)")
        pytest.skip(f"no wheelhouse at {WHEELHOUSE} (run: python3 -m pip wheel -w .wheelhouse .)")
    tmp = tmp_path_factory.mktemp("install")
    # Built from a clean copy of the source: setuptools reuses an in-tree build/ directory, whose stale
    # files (a module since deleted) would end up in the wheel and hide what a fresh clone ships.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", ".wheelhouse", "*.egg-info", "__pycache__", ".venv", "tests"))
    dist = tmp / "dist"
    # The build backend (setuptools) comes from the wheelhouse too: an isolated build, as pip does it.
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--find-links",
                            str(WHEELHOUSE), "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("launch_ready-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index", "--find-links", str(WHEELHOUSE),
                          str(wheel)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp / "elsewhere"
    (work / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "stacks" / "Pulumi.example.yaml", work / "stacks")
    return wheel, venv, work


def _run(installed, *args):
    _wheel, venv, work = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME",)}
    return subprocess.run([str(venv / "bin" / "launchready"), *args], cwd=work, capture_output=True, text=True,
                          timeout=300, env=env)


def test_wheel_ships_no_test_harness(installed):
    wheel, _venv, _work = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("tests/") or "/testing/" in n], names
    assert "infra/findings/findings.schema.json" in names


def test_plan_runs_from_a_plain_install(installed):
    run = _run(installed, "plan", "--stack", "example")
    assert run.returncode == 0, run.stderr
    assert "Launch plan" in run.stdout and "Traceback" not in run.stderr


@pytest.mark.parametrize("fmt", ["text", "console", "json", "sarif", "junit", "md"])
def test_gate_runs_from_a_plain_install_in_every_format(installed, fmt, tmp_path):
    out = tmp_path / f"gate.{fmt}"
    run = _run(installed, "gate", "--stack", "example", "--root", str(installed[2]), "--format", fmt,
               "--output", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "internal error" not in run.stderr and out.read_text().strip()


def test_verify_help_from_a_plain_install(installed):
    run = _run(installed, "verify", "--help")
    assert run.returncode == 0 and "--nameserver" in run.stdout and "sarif" in run.stdout


def test_report_html_from_a_plain_install(installed, tmp_path):
    """The report's jinja2 templates ship in the wheel (package data), and it finds plan and gate
    through the installed entry points."""
    wheel, _venv, _work = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {"infra/report/handover.html.j2", "infra/report/handover.md.j2"} <= set(names)
    out = tmp_path / "handover.html"
    run = _run(installed, "report", "--stack", "example", "--format", "html", "--output", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    html = out.read_text()
    assert "internal error" not in run.stderr and 'id="manual"' in html and "Launch handover: example.com" in html
