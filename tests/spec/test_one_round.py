"""One run reports every problem it soundly can: a hostile stack file with independent mistakes of
every kind (bad types in several sections, unknown keys, cross-section conflicts, duplicates) gets
them all from one `launchready plan`, each as file:line: key.path; where a check must wait (the YAML
does not parse, a key is given twice, a section it reads is invalid) the output says so."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.cli import main as launchready
from infra.spec import SpecError, load_stack

pytestmark = pytest.mark.unit

HOSTILE = """\
config:
  launchready:domain: acme-portal.eu
  launchready:environment: prod
  launchready:zone:
    name: acme-portal.eu
    acountId: 9f3c1a7be0d24c6e8b5a0f1d2c3e4b5a
  launchready:hosts:
    - name: acme-portal.eu
      origin: 52.30.1.10
    - name: www.acme-portal.eu
      origin: 52.30.1.10
    - name: app.acme-portal.eu
      origin: 52.30.1.20
      proxied: "yes please"
    - name: www.acme-portal.eu
      origin: 52.30.1.21
    - name: shop.other.org
      origin: 52.30.1.22
  launchready:redirects:
    - from: /signin
      to: /login
      status: 303
    - from: /old
      to: /new
      host: ghost.acme-portal.eu
    - from: /a
      to: /b
    - from: /b
      to: /a
  launchready:tls:
    minVersion: 1.2
    sslMode: strictest
  launchready:rateLimits:
    - path: /login
      requests: many
      period: 60
    - path: /reset
      hosts: [nowhere.acme-portal.eu]
      requests: 5
      period: 60
  launchready:dnssec: sometimes
  launchready:cahce: {}
"""

# (key path, what the message says, the text on the line it points at): fourteen independent mistakes.
EXPECTED = [
    ("environment", "'prod' is not allowed", "launchready:environment: prod"),
    ("zone.acountId", "unknown key (did you mean 'accountId'?)", "acountId:"),
    ("hosts[2].proxied", "'yes please' is not a boolean", 'proxied: "yes please"'),
    ("hosts[3].name", "'www.acme-portal.eu' is declared twice (first at hosts[1])", "- name: www.acme-portal.eu"),
    ("hosts[4].name", "'shop.other.org' is outside the apex domain", "- name: shop.other.org"),
    ("redirects[0].status", "303 is not allowed", "status: 303"),
    ("redirects[1].host", "'ghost.acme-portal.eu' is not among hosts", "host: ghost.acme-portal.eu"),
    ("redirects[2].to", "redirect loop: /a → /b → /a", "to: /b"),
    ("tls.minVersion", "is a number, not a TLS version", "minVersion: 1.2"),
    ("tls.sslMode", "'strictest' is not allowed", "sslMode: strictest"),
    ("rateLimits[0].requests", "'many' is not an integer", "requests: many"),
    ("rateLimits[1].hosts[0]", "'nowhere.acme-portal.eu' is not among hosts", "hosts: [nowhere.acme-portal.eu]"),
    ("dnssec", "'sometimes' is not a boolean", "launchready:dnssec: sometimes"),
    ("launchready:cahce", "unknown key (did you mean launchready:cache?)", "launchready:cahce:"),
]


def _error(tmp_path: Path, text: str) -> tuple[Path, SpecError]:
    path = tmp_path / "Pulumi.hostile.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    return path, info.value


def test_every_independent_mistake_in_one_run(tmp_path):
    path, error = _error(tmp_path, HOSTILE)
    lines = HOSTILE.splitlines()
    got = [(i.path, i.message, lines[i.line - 1]) for i in error.issues]
    assert [p for p, _, _ in got] == [p for p, _, _ in EXPECTED], got
    for (p, message, line), (_, want, on_line) in zip(got, EXPECTED, strict=True):
        assert want in message and on_line in line, (p, message, line)
    assert all(i.file == str(path) for i in error.issues)
    # The zone section is invalid: the checks that read it (zone name, adoption) wait, and say so.
    assert error.more_after and "zone" in error.more_after


def test_the_plan_prints_them_all_once_with_what_waits(tmp_path, capsys):
    path = tmp_path / "Pulumi.hostile.yaml"
    path.write_text(HOSTILE)
    assert launchready(["plan", "--stack", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: {len(EXPECTED)} problems in the stack spec:")
    located = re.findall(rf"^  {re.escape(str(path))}:(\d+): (\S+):", err, flags=re.M)
    assert [p for _, p in located] == [p for p, _, _ in EXPECTED]
    assert err.rstrip().splitlines()[-1].startswith(f"  {path}: fix these first; more checks run after (")


def test_a_key_given_twice_does_not_hide_the_other_sections_problems(tmp_path):
    text = HOSTILE.replace("  launchready:dnssec: sometimes\n", "  launchready:dnssec: sometimes\n  launchready:tls: {}\n")
    _, error = _error(tmp_path, text)
    paths = [i.path for i in error.issues]
    # The duplicate is reported, the section it touches is held back (its value is uncertain), and
    # every other section's problems come in the same run.
    assert "launchready:tls" in paths and not any(p.startswith("tls.") for p in paths)
    assert {"environment", "hosts[2].proxied", "redirects[1].host", "dnssec"} <= set(paths)
    assert "tls: judged once the key problems above are fixed" in error.more_after


def test_yaml_that_does_not_parse_says_more_checks_follow(tmp_path):
    path, error = _error(tmp_path, HOSTILE.replace("    sslMode: strictest\n", "\tsslMode: strictest\n"))
    assert [i.message.split(":")[0] for i in error.issues] == ["not valid YAML"]
    assert str(error).splitlines()[-1] == (f"  {path}: fix this first; more checks run after "
                                           "(the stack spec is checked once the file reads as a stack file)")


def test_a_valid_file_and_a_single_mistake_have_no_note(tmp_path):
    _, error = _error(tmp_path, "config:\n  launchready:domain: acme-portal.eu\n  launchready:hosts:\n"
                                "    - name: acme-portal.eu\n      origin: 52.30.1.10\n"
                                "    - name: www.acme-portal.eu\n      origin: 52.30.1.10\n  launchready:dnssec: 3\n")
    assert [i.path for i in error.issues] == ["dnssec"] and error.more_after == ""
