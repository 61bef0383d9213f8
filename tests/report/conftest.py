"""Shared by the report tests: the recorded result set, and the report command run in this process."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parents[1]


@pytest.fixture
def results(tmp_path) -> Path:
    """A copy of the recorded results (plan.json, gate.json, verify.json) a test may change."""
    return Path(shutil.copytree(RESULTS, tmp_path / "results"))


@pytest.fixture
def report(capsys, monkeypatch):
    """Run `launchready report ...` in-process from the repository root: (exit code, stdout, stderr)."""
    from infra.report.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args: str):
        code = main(["--stack", "example", *args])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run
