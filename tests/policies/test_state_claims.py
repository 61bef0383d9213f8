"""What reaches state, said honestly: write-only inputs are still stored, encrypted, in state inputs by
the current Terraform bridge (pulumi-terraform-bridge issue #3201). No doc, rule text or message may
claim a secret value "never reaches state"; they say "never in plaintext" instead."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
# The old claims, in the forms they took ("never in state", "never land in the Pulumi state file",
# "never reach state at all", "never records them in the Pulumi state", "never stored in the Pulumi state").
OLD_CLAIM = re.compile(r"(?is)never\s+(?:in|reach(?:es)?|lands?|land\s+in|records?\s+\w+\s+in|stored\s+in)\s+(?:the\s+)?"
                       r"(?:pulumi\s+)?state")
HONEST = "never in plaintext; stored encrypted by the stack's secrets provider in state inputs (bridge issue #3201)"


def _texts():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for top in ("infra", "policies", "verify", "stacks"):
        files += sorted(p for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".md", ".yaml"))
    return [(p, p.read_text(encoding="utf-8")) for p in files if p.is_file()]


def test_no_doc_or_message_claims_secrets_never_reach_state():
    found = [f"{p.relative_to(ROOT)}: {m.group(0)!r}" for p, text in _texts() for m in OLD_CLAIM.finditer(text)]
    assert found == []


def test_the_pattern_catches_the_old_wording():
    for old in ("never in state", "so they never land in the Pulumi state file", "which never\nreach state at all",
                "never records them in the Pulumi state", "write-only: never stored in the Pulumi\n  state"):
        assert OLD_CLAIM.search(old), old


def test_what_reaches_state_is_documented_where_users_read():
    from policies.rules import BY_NAME

    flat = {p.relative_to(ROOT).as_posix(): re.sub(r"\s+", " ", t) for p, t in _texts()}
    assert "stored encrypted by the stack's secrets provider in state inputs" in flat["docs/stack-spec-mail.md"]
    assert "#3201" in flat["docs/stack-spec-mail.md"]
    assert HONEST in flat["docs/policies.md"]
    assert HONEST in re.sub(r"\s+", " ", BY_NAME["secret-value-write-only"].description)


def test_plan_says_it_of_each_secret_version():
    from infra.planview import DESCRIBERS

    line = DESCRIBERS["aws:secretsmanager/secretVersion:SecretVersion"]({"secretStringWo": "[secret]", "secretStringWoVersion": 1})
    assert "never in plaintext: stored encrypted in state inputs (bridge issue #3201)" in line
    assert not OLD_CLAIM.search(line)
