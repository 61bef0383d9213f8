"""The CI workflows shipped for users (.github/workflows/, not run here): each parses, each
`launchready` step is accepted by the real command line, each `pulumi` step names what exists."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from infra.cli import build_parser

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# Where a shell command ends inside a `run:` line.
_END = re.compile(r"\s(?:\|\||&&|;|\||>>?|2>&1)\s|\s(?:\|\||&&)$")


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and doc.get("jobs"), path.name
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def _steps(doc: dict):
    for name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def _commands(run: str, program: str) -> list[list[str]]:
    """The argv of every `program ...` command in a run block, with $VARS kept as words."""
    out = []
    for line in run.replace("\\\n", " ").splitlines():
        for m in re.finditer(rf"(?:^|\s|/){program}\s", line):
            rest = line[m.end():]
            rest = _END.split(" " + rest, maxsplit=1)[0]
            out.append(shlex.split(rest))
    return out


def test_there_is_a_workflow_for_each_moment():
    names = {p.stem for p in WORKFLOWS}
    assert names == {"launchready-gate", "launchready-preview", "launchready-deploy", "launchready-daily"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_every_launchready_step_uses_real_options(path):
    doc = _load(path)
    parser = build_parser()
    seen = 0
    for job, step in _steps(doc):
        for argv in _commands(step.get("run", ""), "launchready"):
            seen += 1
            try:
                args = parser.parse_args(argv)
            except SystemExit:
                pytest.fail(f"{path.name} job {job} step {step.get('name')!r}: `launchready {shlex.join(argv)}` "
                            "is refused by the command line")
            assert args.command in ("plan", "gate", "verify", "report")
    assert seen or "pulumi preview" in path.read_text(encoding="utf-8"), f"{path.name} runs no launchready command"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_pulumi_steps_name_the_pack_and_a_stack(path):
    for _job, step in _steps(_load(path)):
        for argv in _commands(step.get("run", ""), "pulumi"):
            assert "--stack" in argv, argv
            if "--policy-pack" in argv:
                pack = REPO / argv[argv.index("--policy-pack") + 1]
                assert (pack / "PulumiPolicy.yaml").exists(), pack


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_users_install_what_a_user_installs(path):
    """The workflows install the package as users do (`pip install .`), never the test extra, into
    the .venv that Pulumi.yaml names, and pin each action to a major version."""
    text = path.read_text(encoding="utf-8")
    assert ".[test]" not in text
    for _job, step in _steps(_load(path)):
        if "uses" in step:
            assert re.search(r"@v\d+$", step["uses"]), step["uses"]
        if "pip install" in step.get("run", ""):
            assert ".venv/bin/pip install --quiet ." in step["run"]
    pulumi_yaml = (REPO / "Pulumi.yaml").read_text(encoding="utf-8")
    if "pulumi " in text:
        assert ".venv" in pulumi_yaml


def test_the_gate_uploads_sarif_and_fails_loudly():
    gate = _load(REPO / ".github" / "workflows" / "launchready-gate.yml")
    assert gate["permissions"]["security-events"] == "write"
    uses = [s.get("uses", "") for _j, s in _steps(gate)]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    daily = _load(REPO / ".github" / "workflows" / "launchready-daily.yml")
    assert "schedule" in daily["on"] and any(s.get("if") == "failure()" for _j, s in _steps(daily))
