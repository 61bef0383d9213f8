"""The gate masks secret values and only them: a secret of MIN_SECRET_LENGTH characters or more never
appears in any format, wherever a message, evidence or resource name carries it as a token; a short
value, or a word that merely equals part of one, leaves innocent text alone."""
from __future__ import annotations

import io
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

from infra.findings import Finding, Location, Status
from infra.findings.render import RENDERERS
from infra.findings.render.console import render_console
from policies.gate import MIN_SECRET_LENGTH, REDACTED, _redactor, _Run

pytestmark = pytest.mark.unit

SECRET_CHARS = string.ascii_letters + string.digits + "-_.+/=~!$%*"
# What stands next to a value in the gate's messages: spaces, quotes, key=value, URL userinfo, paths, lists.
SEPARATORS = st.sampled_from([" ", "'", '"', "=", ": ", "/", "@", ", ", "(", ")", "[", "]", "\n", "\t", "; ", "`"])
WORDS = st.text(alphabet=string.ascii_letters + " .:/-", max_size=30)


def _rendered(run: _Run) -> str:
    report = run.report()
    buffer = io.StringIO()
    render_console(report, Console(file=buffer, width=200, force_terminal=False))
    return "\n".join([buffer.getvalue(), *(render(report) for render in RENDERERS.values())])


def _run(text: str, secrets: set[str]) -> _Run:
    finding = Finding(id="secret-in-resource-input", status=Status.FAIL, level="mandatory", severity="high",
                      area="secrets", message=text, evidence={"value": text, "nested": [text]},
                      location=Location(file="stacks/Pulumi.prod.yaml", line=3, resource_name=text, target=text))
    return _Run(stack="prod", stack_file="stacks/Pulumi.prod.yaml", findings=[finding], secrets=secrets)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=st.text(alphabet=SECRET_CHARS, min_size=MIN_SECRET_LENGTH, max_size=48),
       before=WORDS, after=WORDS, left=SEPARATORS, right=SEPARATORS)
def test_a_secret_embedded_in_a_message_never_appears_in_any_format(secret, before, after, left, right):
    innocent = _rendered(_run(f"{before}{left}VALUE{right}{after}", {secret}))
    assume(secret not in innocent)  # the secret is not ordinary text of the report itself
    out = _rendered(_run(f"{before}{left}{secret}{right}{after}", {secret}))
    assert secret not in out
    assert REDACTED in out


@given(secret=st.text(alphabet=SECRET_CHARS, min_size=MIN_SECRET_LENGTH, max_size=48), left=SEPARATORS, right=SEPARATORS)
def test_only_the_secret_is_replaced(secret, left, right):
    redact = _redactor({secret})
    assert redact(f"key{left}{secret}{right}tail") == f"key{left}{REDACTED}{right}tail"


def test_a_short_common_word_that_equals_part_of_a_path_is_not_masked():
    redact = _redactor({"deploy", "app", "prod"})           # too short to tell from ordinary words
    text = "/home/deploy/app/stacks/Pulumi.prod.yaml: app.example.com"
    assert redact(text) == text


def test_a_long_secret_inside_a_longer_word_is_not_a_match_but_as_a_token_it_is():
    redact = _redactor({"portal-session"})
    assert redact("cookie __Host-portal-sessions is set") == "cookie __Host-portal-sessions is set"
    assert redact("cookie=portal-session; path=/") == f"cookie={REDACTED}; path=/"


def test_longer_secrets_are_masked_whole_and_overlapping_ones_each():
    redact = _redactor({"abcdefgh", "abcdefgh-ijklmnop", "zz-abcdefgh"})
    assert redact("x abcdefgh-ijklmnop y abcdefgh z zz-abcdefgh") == f"x {REDACTED} y {REDACTED} z {REDACTED}"


def test_secrets_below_the_minimum_or_not_text_are_ignored():
    redact = _redactor({"", "short", None, 12345678})  # type: ignore[arg-type]
    assert redact("short 12345678") == "short 12345678"
